"""The study report: a Markdown table and figures, built from the stages' results."""
