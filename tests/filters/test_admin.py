"""Filters and brands as a moderator edits them in the admin pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from filters.admin import FilterAdminForm, _field_errors
from filters.matching import index_stamp
from filters.models import Brand, BrandAlias, Filter
from lib.errors import FieldError, ValidationFailed
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def filter_form(owner, **fields) -> dict:
    return {
        "owner": owner.pk,
        "name": "Archive",
        "brands": "",
        "keywords": "",
        "exclude": "",
        "price_min": "",
        "price_max": "",
        "active": "on",
        **fields,
    }


def errors_of(response) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


def test_words_are_edited_as_comma_separated_text(admin_client):
    owner = make_user()
    add = reverse("admin:filters_filter_add")
    response = admin_client.post(
        add,
        filter_form(
            owner,
            brands="Rick Owens, CDG",
            keywords="jacket、 leather",
            exclude="kids",
            price_max="¥68,000",
            markets=["mercari", "rakuma"],
        ),
    )
    assert response.status_code == 302
    made = Filter.objects.get(owner=owner)
    assert made.brands == ["Rick Owens", "Comme des Garçons"]
    assert (made.keywords, made.exclude) == (["jacket", "leather"], ["kids"])
    assert (made.price_max, made.markets) == (68000, ["mercari", "rakuma"])
    page = admin_client.get(reverse("admin:filters_filter_change", args=[made.pk]))
    form = page.context["adminform"].form
    assert form["brands"].value() == "Rick Owens, Comme des Garçons"
    assert 'value="jacket, leather"' in page.content.decode()
    assert ingest_listings([listing("リックオウエンス leather jacket", price=60000)]).alerts == 1


def test_two_spellings_of_one_brand_are_stored_once(admin_client):
    owner = make_user()
    admin_client.post(
        reverse("admin:filters_filter_add"),
        filter_form(owner, brands="cdg, コムデギャルソン, Comme des Garcons"),
    )
    assert Filter.objects.get(owner=owner).brands == ["Comme des Garçons"]


def test_a_wrong_field_gets_the_services_message_beside_it(admin_client):
    owner = make_user()
    made = make_filter(owner, "Sacai", brands=["Sacai"])
    url = reverse("admin:filters_filter_change", args=[made.pk])
    many = ", ".join(f"word{n}" for n in range(21))
    response = admin_client.post(
        url, filter_form(owner, name="Sacai", brands="Sacai", keywords=many, price_min="cheap")
    )
    assert response.status_code == 200
    assert errors_of(response) == {
        "keywords": ["At most 20 keywords are allowed; you gave 21."],
        "price_min": ["The minimum price must be a whole number of yen, not 'cheap'."],
    }
    response = admin_client.post(url, filter_form(owner, name="Sacai"))
    assert errors_of(response)["brands"] == [
        "Add at least one brand or keyword; a filter on nothing would match every listing."
    ]
    made.refresh_from_db()
    assert (made.brands, made.keywords) == (["Sacai"], [])


def test_a_service_error_of_no_form_field_goes_above_the_form():
    form = FilterAdminForm(data=filter_form(make_user(), brands="Sacai"))
    failed = ValidationFailed([FieldError("quota", "Too many filters."), FieldError("name", "No.")])
    form.add_error(None, _field_errors(failed, form))
    assert form.non_field_errors() == ["Too many filters."]
    assert form.errors["name"] == ["No."]


def test_staff_may_add_a_filter_beyond_the_users_quota(admin_client):
    owner = make_user(filter_quota=1)
    make_filter(owner, brands=["Sacai"])
    response = admin_client.post(
        reverse("admin:filters_filter_add"), filter_form(owner, brands="Kapital")
    )
    assert response.status_code == 302
    assert Filter.objects.filter(owner=owner).count() == 2


def brand_form(name: str, aliases: list[str], existing: list[BrandAlias] = ()) -> dict:
    data = {
        "name": name,
        "aliases-TOTAL_FORMS": str(len(existing) + len(aliases)),
        "aliases-INITIAL_FORMS": str(len(existing)),
        "aliases-MIN_NUM_FORMS": "0",
        "aliases-MAX_NUM_FORMS": "1000",
    }
    for n, alias in enumerate(existing):
        data[f"aliases-{n}-id"] = str(alias.pk)
        data[f"aliases-{n}-alias"] = alias.alias
    for n, alias in enumerate(aliases, start=len(existing)):
        data[f"aliases-{n}-alias"] = alias
    return data


def alias_errors(response) -> list[dict]:
    formset = response.context["inline_admin_formsets"][0].formset
    return [form.errors for form in formset.forms]


def test_a_new_brand_named_as_an_existing_alias_is_refused(admin_client):
    add = reverse("admin:filters_brand_add")
    response = admin_client.post(add, brand_form("リックオウエンス", []))
    assert errors_of(response) == {
        "name": ["“リックオウエンス” is already an alias of Rick Owens."]
    }
    assert not Brand.objects.filter(name="リックオウエンス").exists()


def test_an_alias_equal_to_its_own_brand_or_given_twice_is_refused(admin_client):
    add = reverse("admin:filters_brand_add")
    response = admin_client.post(add, brand_form("Visvim", ["VISVIM", "ビズビム", "ﾋﾞｽﾞﾋﾞﾑ"]))
    assert alias_errors(response) == [
        {"alias": ["“VISVIM” is the brand's own name; an alias is another way to write it."]},
        {},
        {"alias": ["“ﾋﾞｽﾞﾋﾞﾑ” is given twice (as “ビズビム”)."]},
    ]
    assert not Brand.objects.filter(name="Visvim").exists()


def test_a_brand_added_with_its_aliases_matches_at_once(admin_client):
    owner = make_user()
    make_filter(owner, brands=["Visvim"])
    before = index_stamp().brands_version
    response = admin_client.post(
        reverse("admin:filters_brand_add"), brand_form("Visvim", ["ビズビム"])
    )
    assert response.status_code == 302
    assert index_stamp().brands_version > before
    assert ingest_listings([listing("ビズビム スニーカー")]).alerts == 1


def test_renaming_a_brand_in_the_admin_keeps_the_old_name_as_an_alias(admin_client):
    sacai = Brand.objects.get(name="Sacai")
    url = reverse("admin:filters_brand_change", args=[sacai.pk])
    response = admin_client.post(url, brand_form("sacai Paris", [], list(sacai.aliases.all())))
    assert response.status_code == 302
    assert set(sacai.aliases.values_list("alias", flat=True)) == {"サカイ", "Sacai"}
    response = admin_client.post(
        url, brand_form("Kapital", [], list(sacai.aliases.order_by("alias")))
    )
    assert errors_of(response) == {"name": ["“Kapital” is already the brand Kapital."]}


def test_an_alias_page_uses_the_same_rules(admin_client):
    rick = Brand.objects.get(name="Rick Owens")
    add = reverse("admin:filters_brandalias_add")
    response = admin_client.post(add, {"brand": rick.pk, "alias": "RICK OWENS"})
    assert errors_of(response) == {
        "alias": ["“RICK OWENS” is the brand's own name; an alias is another way to write it."]
    }
    response = admin_client.post(add, {"brand": rick.pk, "alias": "Sacai"})
    assert errors_of(response) == {"alias": ["“Sacai” is already the brand Sacai."]}
    alias = rick.aliases.get()
    before = index_stamp().brands_version
    delete = reverse("admin:filters_brandalias_delete", args=[alias.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert index_stamp().brands_version > before
    assert not rick.aliases.exists()


def test_a_second_filter_of_the_same_name_is_refused_in_words(admin_client):
    owner = make_user("rick_fan")
    make_filter(owner, "Sacai", brands=["Sacai"])
    response = admin_client.post(
        reverse("admin:filters_filter_add"), filter_form(owner, name="SACAI", brands="Kapital")
    )
    assert errors_of(response) == {"name": ["rick_fan already has a filter named “SACAI”."]}
    response = admin_client.post(reverse("admin:filters_filter_add"), filter_form(owner, name=""))
    assert errors_of(response)["name"] == ["This field is required."]
