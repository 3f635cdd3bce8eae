"""Evaluation: question set, pure metrics, a runner comparing retrieval variants, reports."""
