"""The explorer's dark style sheet (one place, so panes and dialogs match)."""

STYLE = """
QMainWindow, QWidget { background: #1c2129; color: #dde3ea; }
QDockWidget::title { background: #262d38; padding: 4px 8px; font-weight: bold; }
QGroupBox { border: 1px solid #323b48; border-radius: 5px; margin-top: 12px; padding-top: 4px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #9fc3e8; font-weight: bold; }
QLineEdit, QComboBox, QSpinBox { background: #12161c; border: 1px solid #3a4452; border-radius: 3px; padding: 2px 4px; }
QLineEdit:disabled, QComboBox:disabled { color: #5d6673; }
QLabel:disabled { color: #5d6673; }
QToolButton, QPushButton { background: #2c3542; border: 1px solid #3d4859; border-radius: 4px; padding: 3px 8px; }
QToolButton:hover, QPushButton:hover { background: #37435a; }
QToolButton:checked { background: #3d5a80; }
QToolButton:disabled, QPushButton:disabled { background: #20262e; border-color: #2a313b; color: #555e6b; }
QTableView { background: #151a21; alternate-background-color: #1a2029; gridline-color: #2a313b; }
QTableView::item:selected { background: #35577d; }
QHeaderView::section { background: #262d38; border: none; padding: 3px 6px; }
QToolBar { background: #20262f; border: none; spacing: 6px; }
QStatusBar { background: #20262f; }
QStatusBar QLabel { padding: 0 8px; }
QCheckBox::indicator { width: 13px; height: 13px; border: 1px solid #6b7686; border-radius: 3px; background: #12161c; }
QCheckBox::indicator:checked { background: #4a8fd9; border-color: #8cc1f5; }
QCheckBox::indicator:disabled { border-color: #3a4250; }
QProgressBar { border: 1px solid #3a4452; border-radius: 3px; text-align: center; }
QProgressBar::chunk { background: #3d7bbf; }
QTabBar::tab { background: #262d38; padding: 4px 10px; }
QTabBar::tab:selected { background: #35577d; }
QScrollArea { border: none; }
"""
