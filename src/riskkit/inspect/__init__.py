"""``riskkit inspect``: what is in the leaked files before anything is mapped.

Per column of every sheet, a proposed canonical field or data category with a confidence and
the evidence (header words, value patterns, counted but never quoted), and a draft incident
file with every column either mapped or listed under ``unmapped:`` with its reason.

Layers, each usable alone: ``tables`` opens files through the intake readers (as ``assess`` does),
``headers`` and ``patterns`` read headers and values, ``classify`` decides per table,
``inventory`` walks files, ``draft`` writes the incident YAML and ``table`` the terminal text;
``workbook`` gives leadership's whole-extract inventory (every sheet, what no mapping covers);
``corpus`` writes the labelled export files the accuracy test and benchmark score against.
"""

from riskkit.inspect.classify import ColumnGuess, classify_column, classify_table
from riskkit.inspect.draft import PLACEHOLDER, draft_incident
from riskkit.inspect.inventory import SheetReport, inspect_paths
from riskkit.inspect.table import render
from riskkit.inspect.workbook import InventoryRow, workbook_inventory

__all__ = ["PLACEHOLDER", "ColumnGuess", "InventoryRow", "SheetReport", "classify_column", "classify_table",
           "draft_incident", "inspect_paths", "render", "workbook_inventory"]
