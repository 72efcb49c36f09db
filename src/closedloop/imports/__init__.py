"""File imports (SPEC section 7): readers, presets, validation and writers per kind."""
