"""Data scope and role permissions: what each actor may see and do."""
