"""Parlour's own date and time formats, where Django's per-language defaults differ from the
rest of Parlour (settings.FORMAT_MODULE_PATH)."""
