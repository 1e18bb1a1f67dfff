# kind's base image (kindest/base), rebuilt here the way kind's own
# images/base/Dockerfile builds it, for machines that cannot pull it: a
# debootstrap'd Debian bookworm holding kind's packages (containerd, runc and
# the CNI plugins are Debian's, not built from source), with kind's own files
# (entrypoint, systemd units, containerd config, kubelet drop-ins) copied in at
# build time from its Go module. node-image.sh makes the context.
ARG ROOTFS=shop-kind/rootfs:bookworm
FROM ${ROOTFS}
COPY files/ /
COPY extra/ /
# Debian's binaries where kind's files expect its own builds; a runtime spec
# from this containerd as kind makes it; kind's unit clean-up and enables.
# restrict_oom_score_adj: this machine's root lacks CAP_SYS_RESOURCE (K8S-HERE.md).
RUN chmod 0755 /usr/local/bin/* /kind /kind/bin /kind/bin/* \
 && ln -s /usr/bin/containerd /usr/local/bin/containerd \
 && mkdir -p /opt/cni && ln -s /usr/lib/cni /opt/cni/bin \
 && ctr oci spec \
      | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
      | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \
 && sed -i -e 's/^\(\s*restrict_oom_score_adj\) = false/\1 = true/' \
      -e "s|^\(\s*sandbox_image\) = .*|\1 = \"$(cat /kind/sandbox-image)\"|" \
      -e '/^\[proxy_plugins\]/,/^$/d' /etc/containerd/config.toml \
 && cat /etc/containerd/registry.toml >> /etc/containerd/config.toml && rm /etc/containerd/registry.toml \
 && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
 && ln -sf /usr/lib/systemd/systemd /sbin/init \
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \
 && systemctl mask systemd-binfmt.service \
 && mkdir -p /etc/kubernetes/manifests
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
