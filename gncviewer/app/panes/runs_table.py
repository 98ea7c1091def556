"""The runs table: one row per run (the live one and the pinned ones), sortable, exportable as CSV.

``RowsModel`` is a Qt model over plain rows (dicts) and ``Column`` descriptions (``app/pinned.py``),
so any table of runs (a sweep's results, say) can reuse it: the rows carry raw values, the columns
say how to show them, and sorting uses the raw values (numbers sort as numbers, "–" for NaN last).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import QAbstractItemView, QCheckBox, QHeaderView, QPushButton, QTableView, QWidget

from .. import help_texts
from ..pinned import Column
from .base import Pane

#: The role under which a cell gives its raw value (for sorting and for tests).
RAW_ROLE = Qt.ItemDataRole.UserRole + 1


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text, NaN and None last, whatever the order."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (2, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


class RowsModel(QAbstractTableModel):
    """Plain rows (dicts keyed by ``Column.key``) as a read-only table; ``row["color"]`` paints a swatch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[Column] = []
        self.rows: list[dict[str, Any]] = []
        #: Set when the last ``set_rows`` reset the model (the view then fits its columns again).
        self.reset_done = False

    def set_rows(self, columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> bool:
        """Show ``rows``; False when nothing changed.  Same runs and columns: the cells are updated in
        place (the view keeps its selection and sort), otherwise the model is reset."""
        rows = [dict(r) for r in rows]
        columns = list(columns)
        self.reset_done = False
        if columns == self.columns and [r.get("key") for r in rows] == [r.get("key") for r in self.rows]:
            if rows == self.rows:
                return False
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(columns) - 1))
            return True
        self.beginResetModel()
        self.columns = columns
        self.rows = rows
        self.endResetModel()
        self.reset_done = True
        return True

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        value = row.get(column.key)
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(value)
        if role == RAW_ROLE:
            return _sort_key(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.text(value) if column.key in ("end", "differ") else column.tip
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and "color" in row:
            return QColor(*row["color"])
        if role == Qt.ItemDataRole.ForegroundRole and column.key == "end" and row.get("warning"):
            return QBrush(QColor(240, 200, 90))
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].tip
        return None


class _RawSort(QSortFilterProxyModel):
    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        return self.sourceModel().data(left, RAW_ROLE) < self.sourceModel().data(right, RAW_ROLE)


class RunsTablePane(Pane):
    """The table and its actions; the window owns the runs, this pane shows them and reports requests.

    Signals: ``pin_requested``, ``unpin_requested(keys)``, ``clear_requested``, ``export_requested``,
    ``selection_changed(keys)`` (the rows selected, which the panes overlay), ``auto_pin_toggled(on)``,
    ``overlay_toggled(on)``.
    """

    pin_requested = pyqtSignal()
    unpin_requested = pyqtSignal(list)
    clear_requested = pyqtSignal()
    export_requested = pyqtSignal()
    selection_changed = pyqtSignal(list)
    auto_pin_toggled = pyqtSignal(bool)
    overlay_toggled = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.RUNS_TABLE, parent)
        self.pin_button = QPushButton("Pin run")
        self.pin_button.setToolTip("Keep the live run for comparison (P)")
        self.unpin_button = QPushButton("Unpin")
        self.unpin_button.setToolTip("Unpin the selected runs")
        self.clear_button = QPushButton("Unpin all")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Write this table as CSV")
        self.auto_pin = QCheckBox("pin on change")
        self.auto_pin.setChecked(True)
        self.auto_pin.setToolTip(
            "Pin the run automatically before a change of method, start or problem settings replaces it"
        )
        self.overlay = QCheckBox("overlay")
        self.overlay.setChecked(True)
        self.overlay.setToolTip(
            "Draw pinned runs in the landscape, history and noise-level panes (the selected rows; none selected: all)"
        )
        for widget in (
            self.pin_button,
            self.unpin_button,
            self.clear_button,
            self.export_button,
            self.auto_pin,
            self.overlay,
        ):
            self.header.addWidget(widget)
        self.finish_header()
        self.model = RowsModel(self)
        self.proxy = _RawSort(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        # Columns are fitted when the runs change, not on every update of the live row (fitting measures
        # every cell, which would cost more than the update itself while a run streams in).
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setWordWrap(False)
        self.body.addWidget(self.view)
        self._updating = False

        self.pin_button.clicked.connect(self.pin_requested.emit)
        self.unpin_button.clicked.connect(lambda: self.unpin_requested.emit(self.selected_keys()))
        self.clear_button.clicked.connect(self.clear_requested.emit)
        self.export_button.clicked.connect(self.export_requested.emit)
        self.auto_pin.toggled.connect(self.auto_pin_toggled.emit)
        self.overlay.toggled.connect(self.overlay_toggled.emit)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)

    # -- rows ------------------------------------------------------------------------------------------

    def _widen_to_contents(self) -> None:
        """Widen columns whose values outgrew them (a live run's t goes from "1" to "0.0311"); never
        narrow one, so a width the user chose stays."""
        header = self.view.horizontalHeader()
        for column in range(self.proxy.columnCount()):
            needed = max(self.view.sizeHintForColumn(column), header.sectionSizeHint(column))
            if needed > header.sectionSize(column):
                header.resizeSection(column, needed)

    def set_rows(self, columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> None:
        """Show ``rows``; the selection (by row key) survives."""
        keep = set(self.selected_keys())
        self._updating = True
        try:
            if not self.model.set_rows(columns, rows):
                return
            if self.model.reset_done:
                self.view.resizeColumnsToContents()
            else:
                self._widen_to_contents()
            selection = self.view.selectionModel()
            for r in range(self.proxy.rowCount()):
                source = self.proxy.mapToSource(self.proxy.index(r, 0))
                if self.model.rows[source.row()].get("key") in keep:
                    selection.select(
                        self.proxy.index(r, 0),
                        selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                    )
        finally:
            self._updating = False
        self.unpin_button.setEnabled(any(r.get("key") for r in self.model.rows))
        self.clear_button.setEnabled(any(r.get("key") for r in self.model.rows))
        if set(self.selected_keys()) != keep:
            self.selection_changed.emit(self.selected_keys())

    def selected_keys(self) -> list[int]:
        keys = []
        for index in self.view.selectionModel().selectedRows():
            source = self.proxy.mapToSource(index)
            if 0 <= source.row() < len(self.model.rows):
                keys.append(self.model.rows[source.row()].get("key"))
        return [k for k in keys if k is not None]

    def select_keys(self, keys: Sequence[int]) -> None:
        """Select the rows with these keys (scripts and tests, as a user's clicks would)."""
        selection = self.view.selectionModel()
        selection.clearSelection()
        for r in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(r, 0))
            if self.model.rows[source.row()].get("key") in keys:
                selection.select(self.proxy.index(r, 0), selection.SelectionFlag.Select | selection.SelectionFlag.Rows)

    def cell_text(self, key: int, column: str) -> str:
        """What the table shows for row ``key`` in column ``column`` (tests)."""
        for row in self.model.rows:
            if row.get("key") == key:
                for c in self.model.columns:
                    if c.key == column:
                        return c.text(row.get(column))
        raise KeyError((key, column))

    def _selection_changed(self, *_: Any) -> None:
        if not self._updating:
            self.selection_changed.emit(self.selected_keys())
