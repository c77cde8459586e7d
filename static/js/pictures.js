// A listing's picture that fails to load (gone from the marketplace, or no network) shows
// the site's own placeholder instead of a broken image. Loaded in <head>, before any
// picture, and listening in the capture phase: an image's error event does not bubble.
document.addEventListener(
  "error",
  function (event) {
    var image = event.target;
    var fallback = image && image.getAttribute && image.getAttribute("data-fallback");
    if (image.tagName === "IMG" && fallback && image.getAttribute("src") !== fallback) {
      image.setAttribute("src", fallback);
    }
  },
  true
);
