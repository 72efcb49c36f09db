"""The weekly marketing-sales review: meeting records, generated agendas and action items."""
