"""The compare report's sections (``audit compare``), registered in ``audit.report.sections.COMPARE_SECTIONS``."""
