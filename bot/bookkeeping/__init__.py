"""Keeping the ledger whole and bounded: the spool for rows Redis could not take, daily totals and trimming past
the retention age, and the export that archives rows before they go."""
