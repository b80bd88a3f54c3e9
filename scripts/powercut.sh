#!/usr/bin/env bash
# Power-cut test of the store (issue 10): the crash test's writer runs inside a KVM guest
# whose disk is a raw ext4 image; the guest is killed (SIGKILL to qemu) at a random moment,
# so whatever the guest kernel had not yet written to its disk — its page cache — is lost,
# as in a power cut. A process kill (the crash test in the test command) cannot show that:
# the kernel's page cache outlives the process. After each cut the image is mounted here
# through a loop device and every write the guest printed as acknowledged must be there.
#
#   scripts/powercut.sh [ROUNDS]        # default 30; needs root and loop devices
#
# Not part of the test command: it installs qemu, a Debian kernel and busybox, and each
# round boots a VM (software emulation: KVM guests hang at boot on this machine kind). The guest is the Debian kernel with an initramfs made here: busybox,
# the kernel modules for virtio disks and ext4, and the crash test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-30}"
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update && apt-get install -y --no-install-recommends "${need[@]}" kmod
fi
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -1)
kver=${kernel#/boot/vmlinuz-}

# the crash test binary (its child_writer is the guest's writer)
bin=$(cargo test -p hotline-store --test crash --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "crash" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "could not build the crash test" >&2; exit 1; }

work=target/powercut
umount "$work/mnt" 2>/dev/null || true
rm -rf "$work" && mkdir -p "$work/root"/{bin,dev,proc,sys,data,modules}
root="$work/root"
cp /bin/busybox "$root/bin/busybox"
cp "$bin" "$root/crash"
# the binary's shared libraries, at the paths the loader looks for them
for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
  mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
done
# virtio disk and ext4, in the order modprobe would load them
: >"$root/modules.order"
for m in virtio_pci virtio_blk ext4; do
  modprobe -S "$kver" --show-depends "$m" | awk '{ print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  cp "$ko" "$root/modules/" && basename "$ko" >>"$root/modules.order"
done
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /modules/$m 2>/dev/null; done
mount -t ext4 /dev/vda /data || { echo "GUEST: no disk"; poweroff -f; }
echo "GUEST: writing"
HOTLINE_CRASH_DIR=/data/store /crash --ignored --exact child_writer --nocapture --test-threads 1
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# the orchestrator: boots, cuts, mounts and checks, in the crash test binary
HOTLINE_POWERCUT_KERNEL="$kernel" HOTLINE_POWERCUT_INITRD="$PWD/$work/initrd.gz" \
  HOTLINE_POWERCUT_WORK="$PWD/$work" HOTLINE_POWERCUT_ROUNDS="$rounds" \
  "$bin" --ignored --exact acknowledged_writes_survive_power_cuts --nocapture --test-threads 1
