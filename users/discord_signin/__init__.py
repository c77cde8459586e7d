"""allauth's Discord provider with every Discord URL under settings.DISCORD_API_BASE.

allauth hard-codes discord.com; tests and local runs sign in against an emulator.
Registered through SOCIALACCOUNT_PROVIDERS["discord"]["provider_class"].
"""
