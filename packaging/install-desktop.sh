#!/usr/bin/env bash
# Install (or remove) gncviewer's desktop entry, AppStream metainfo and icons for the current user,
# pointing at a built bundle.  Nothing outside ${XDG_DATA_HOME:-~/.local/share} is touched.
#
#   install-desktop.sh [BUNDLE_DIR]           # install; BUNDLE_DIR holds the `gncviewer` executable
#   install-desktop.sh --uninstall
#
# Run it from the bundle (build.sh copies it to dist/gncviewer/install-desktop.sh; the bundle carries
# the desktop files under _internal/) or from packaging/ in a checkout (BUNDLE_DIR defaults to
# dist/gncviewer).  The bundle is not copied: move it first, then run this script from its new place.
set -euo pipefail

APP_ID="io.github.gncviewer.GncViewer"
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SIZES="16 32 48 64 128 256"

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { printf 'install-desktop.sh: %s\n' "$*" >&2; exit 1; }

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$DATA_HOME/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$DATA_HOME/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t "$DATA_HOME/icons/hicolor" || true
    fi
}

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    --uninstall)
        rm -fv "$DATA_HOME/applications/$APP_ID.desktop" "$DATA_HOME/metainfo/$APP_ID.metainfo.xml" \
               "$DATA_HOME/icons/hicolor/scalable/apps/$APP_ID.svg"
        for s in $SIZES; do rm -fv "$DATA_HOME/icons/hicolor/${s}x${s}/apps/$APP_ID.png"; done
        refresh_caches
        exit 0 ;;
    -*) die "unknown option $1 (try --help)" ;;
esac

# Where the bundle and the files to install are.
if [ -d "$HERE/_internal" ] && [ -x "$HERE/gncviewer" ]; then   # running from inside a bundle
    BUNDLE="${1:-$HERE}"
    SRC_DESKTOP="$HERE/_internal/linux"
    SRC_ICONS="$HERE/_internal/resources/icons/hicolor"
else                                                             # running from packaging/ in a checkout
    ROOT="$(cd "$HERE/.." && pwd)"
    BUNDLE="${1:-$ROOT/dist/gncviewer}"
    SRC_DESKTOP="$ROOT/packaging/linux"
    SRC_ICONS="$ROOT/resources/icons/hicolor"
fi
BUNDLE="$(cd "$BUNDLE" 2>/dev/null && pwd)" || die "no bundle folder ${1:-} (build one with packaging/build.sh)"
EXE="$BUNDLE/gncviewer"
[ -x "$EXE" ] || die "no gncviewer executable in $BUNDLE"
case "$EXE" in
    *[\"\`\$\\%]*) die "the bundle path may not contain \" \` \$ \\ or %: $EXE" ;;
esac
for f in "$SRC_DESKTOP/$APP_ID.desktop" "$SRC_DESKTOP/$APP_ID.metainfo.xml" \
         "$SRC_ICONS/scalable/apps/$APP_ID.svg"; do
    [ -f "$f" ] || die "missing $f"
done

# Desktop entry: Exec and TryExec name the bundle's executable (quoted: the path may hold spaces).
mkdir -p "$DATA_HOME/applications" "$DATA_HOME/metainfo"
awk -v exe="$EXE" '
    /^Exec=/    { sub(/^Exec=gncviewer/, "Exec=\"" exe "\"") }
    /^TryExec=/ { $0 = "TryExec=" exe }
    { print }' "$SRC_DESKTOP/$APP_ID.desktop" > "$DATA_HOME/applications/$APP_ID.desktop.tmp"
mv "$DATA_HOME/applications/$APP_ID.desktop.tmp" "$DATA_HOME/applications/$APP_ID.desktop"
install -m 644 "$SRC_DESKTOP/$APP_ID.metainfo.xml" "$DATA_HOME/metainfo/$APP_ID.metainfo.xml"

install -D -m 644 "$SRC_ICONS/scalable/apps/$APP_ID.svg" "$DATA_HOME/icons/hicolor/scalable/apps/$APP_ID.svg"
for s in $SIZES; do
    install -D -m 644 "$SRC_ICONS/${s}x${s}/apps/$APP_ID.png" "$DATA_HOME/icons/hicolor/${s}x${s}/apps/$APP_ID.png"
done
refresh_caches

echo "installed $APP_ID for $EXE:"
echo "  $DATA_HOME/applications/$APP_ID.desktop"
echo "  $DATA_HOME/metainfo/$APP_ID.metainfo.xml"
echo "  $DATA_HOME/icons/hicolor/{scalable,16x16,...,256x256}/apps/$APP_ID.{svg,png}"
