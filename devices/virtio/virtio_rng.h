/* SPDX-License-Identifier: GPL-2.0 */
/* virtio entropy device (virtio 1.2, section 5.4), fed by getrandom(). */
#ifndef NESTBOX_VIRTIO_RNG_H
#define NESTBOX_VIRTIO_RNG_H

#include "virtio.h"

#define VIRTIO_ID_RNG 4

struct virtio_rng {
	struct virtio_dev vdev;
	uint64_t bytes_served;
};

void virtio_rng_init(struct virtio_rng *rng, const struct guest_mem *mem);

#endif
