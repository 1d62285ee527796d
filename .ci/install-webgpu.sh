#!/usr/bin/env bash
# Installs Mesa's lavapipe Vulkan driver (version 25, from bookworm-backports) so that Dawn
# (the `webgpu` npm package) finds an adapter on a machine without a GPU.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers
