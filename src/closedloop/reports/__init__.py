"""Review packs, the monthly closed-loop report, the glossary and the SLA agreement (HTML and PDF)."""
