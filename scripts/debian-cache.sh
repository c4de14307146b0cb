#!/usr/bin/env bash
# Debian trees the image test and the PostgreSQL 17 tests need, made from
# Debian's archive once and kept outside the checkout, keyed by release:
#
#   scripts/debian-cache.sh base RELEASE
#       prints the path of a slim root tarball of Debian RELEASE (debootstrap
#       --variant=minbase, made slim the way Debian's official images are:
#       no docs, man pages, locales or info, no apt lists or .debs), for
#       `podman import` as debian:<N>-slim.
#   scripts/debian-cache.sh pg MAJOR RELEASE
#       prints the path of a directory holding root/, a Debian RELEASE tree
#       with postgresql-MAJOR (mmdebstrap --variant=minbase), and bin/, small
#       wrappers that run its pg_dump, pg_restore and psql from the host
#       through the tree's own dynamic loader (so they see host paths such
#       as PGPASSFILE).
#
# The cache is $CITAPLANNER_CACHE (default /var/cache/citaplanner).  Each
# entry is built in a temporary directory beside it and renamed into place,
# so an interrupted run leaves no half entry; a lock serialises runs.  Needs
# root and the network on a cold run, nothing on a warm one.
set -euo pipefail

cache=${CITAPLANNER_CACHE:-/var/cache/citaplanner}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

usage() {
  echo "usage: $0 base RELEASE | pg MAJOR RELEASE" >&2
  exit 2
}

# The same excludes as Debian's official slim images (/etc/dpkg/dpkg.cfg.d/docker).
dpkg_excludes=(
  'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/man/*'
  'path-exclude=/usr/share/groff/*'
  'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/lintian/*'
  'path-exclude=/usr/share/linda/*'
  'path-exclude=/usr/share/locale/*'
  'path-include=/usr/share/locale/locale.alias'
)

# Removes what the excludes would have kept out of packages debootstrap
# unpacked before they were in place, and what apt leaves behind.
slim_tree() {
  local root=$1
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
  printf '%s\n' "${dpkg_excludes[@]}" >"$root/etc/dpkg/dpkg.cfg.d/docker"
  # And their apt settings: the .debs an image's `apt-get install` fetched
  # are deleted once installed, no translations, no package caches.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'APT::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
    "$root"/usr/share/lintian/* "$root"/usr/share/linda/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
}

build_base() {
  local release=$1 tmp=$2
  debootstrap --variant=minbase "$release" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -n 30 "$tmp/debootstrap.log" >&2; return 1; }
  # The archive's suites, as the official images list them.
  rm -f "$tmp/root/etc/apt/sources.list"
  cat >"$tmp/root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $release $release-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $release-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  slim_tree "$tmp/root"
  tar --numeric-owner --xattrs -C "$tmp/root" \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' \
    -cf "$tmp/root.tar" .
  rm -rf "$tmp/root" "$tmp/debootstrap.log"
}

build_pg() {
  local major=$1 release=$2 tmp=$3 opts=() e
  for e in "${dpkg_excludes[@]}"; do opts+=(--dpkgopt="$e"); done
  # No "main" cluster: the tests make their own, in a directory of their own.
  mmdebstrap --variant=minbase --include="postgresql-$major" "${opts[@]}" \
    --essential-hook='mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.d/citaplanner.conf"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$release" "$tmp/root" "$mirror" >"$tmp/mmdebstrap.log" 2>&1 ||
    { tail -n 30 "$tmp/mmdebstrap.log" >&2; return 1; }
  rm -f "$tmp/mmdebstrap.log"
  mkdir -p "$tmp/bin"
  local tool
  for tool in pg_dump pg_restore psql; do
    cat >"$tmp/bin/$tool" <<EOF
#!/bin/sh
# PostgreSQL $major's $tool from the tree beside this directory, run on the host.
root=\$(dirname "\$(dirname "\$(readlink -f "\$0")")")/root
exec "\$root/usr/lib64/ld-linux-x86-64.so.2" --library-path "\$root/usr/lib/x86_64-linux-gnu" \\
  "\$root/usr/lib/postgresql/$major/bin/$tool" "\$@"
EOF
    chmod 0755 "$tmp/bin/$tool"
  done
  "$tmp/bin/pg_dump" --version >/dev/null
}

[ $# -ge 2 ] || usage
kind=$1
case $kind in
  # The name holds the recipe's version: a changed recipe makes a new entry.
  base) [ $# -eq 2 ] || usage; release=$2; name="debian-$release-slim-r2.tar" ;;
  pg) [ $# -eq 3 ] || usage; major=$2; release=$3; name="postgresql-$major-$release-r1" ;;
  *) usage ;;
esac

if [ ! -e "$cache/$name" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "debian-cache: $cache/$name is missing and building it needs root" >&2; exit 1; }
  mkdir -p "$cache"
  exec 9>"$cache/.lock.$name"
  flock 9
  if [ ! -e "$cache/$name" ]; then
    tmp=$(mktemp -d "$cache/.tmp.$name.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    start=$(date +%s)
    echo "debian-cache: building $name (cold: downloads from $mirror)" >&2
    case $kind in
      base)
        build_base "$release" "$tmp"
        mv "$tmp/root.tar" "$cache/$name"
        ;;
      pg)
        build_pg "$major" "$release" "$tmp"
        mkdir "$tmp/entry"
        mv "$tmp/root" "$tmp/bin" "$tmp/entry/"
        mv "$tmp/entry" "$cache/$name"
        ;;
    esac
    echo "debian-cache: $name built in $(($(date +%s) - start)) s" >&2
  fi
fi
echo "$cache/$name"
