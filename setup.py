"""Packaging beyond what pyproject.toml can say: the shipped resources inside the package.

The prior (``resources/models``) and the icons (``resources/icons``) live in the top-level ``resources``
folder of the repository, which stays their only source (the PyInstaller spec reads them there too).
Wheels and sdists carry them as the package data of ``gncviewer.resources``, mapped onto that folder,
so an installed gncviewer finds them with ``importlib.resources`` (``gncviewer/core/files.py``).
Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["gncviewer", "gncviewer.*"]), "gncviewer.resources"],
    package_dir={"gncviewer.resources": "resources"},
    package_data={
        "gncviewer.resources": ["models/*.safetensors", "models/*.json", "icons/hicolor/*/apps/*"],
    },
)
