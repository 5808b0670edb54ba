#!/bin/sh
# Post-install of the bedgate package: create the system user (sysusers.d), give it its data directory
# and its configuration, and tell systemd and udev. DPKG_ROOT is set when installing into another root
# (dpkg --root with --force-script-chrootless): the user is made there and nothing is started.
set -e
root="${DPKG_ROOT:-}"
systemd-sysusers ${root:+--root="$root"} "$root/usr/lib/sysusers.d/bedgate.conf"
uid=$(awk -F: '$1 == "bedgate" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "bedgate" { print $3 }' "$root/etc/group")
chown "$uid:$gid" "$root/var/lib/bedgate"
chgrp "$gid" "$root/etc/bedgate/bedgate.yaml"
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  udevadm control --reload || true
  echo "bedgate: edit /etc/bedgate/bedgate.yaml, check it with 'bedgate config check /etc/bedgate/bedgate.yaml', then 'systemctl enable --now bedgate'"
fi
