"""Moving data: backups, restores, store-to-store migration, Parquet export."""
