// SPDX-License-Identifier: GPL-2.0
#include "virtio_rng.h"

#include <sys/random.h>

/* One request is served at most this much: the driver asks again. */
#define VIRTIO_RNG_MAX_CHUNK 4096

static uint32_t fill(const struct virtq_elem *e)
{
	uint32_t done = 0;

	for (unsigned int i = e->out_num; i < e->out_num + e->in_num; i++) {
		size_t want = e->iov[i].iov_len;

		if (done + want > VIRTIO_RNG_MAX_CHUNK)
			want = VIRTIO_RNG_MAX_CHUNK - done;
		if (!want)
			break;
		/* The kernel CSPRNG: never blocks once the host is up. */
		ssize_t n = getrandom(e->iov[i].iov_base, want, 0);

		if (n <= 0)
			break;
		done += n;
	}
	return done;
}

static void rng_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_rng *rng = vdev->priv;
	struct virtq *vq = &vdev->vqs[q];
	struct virtq_elem *e = &(struct virtq_elem){ 0 };
	int r;

	do {
		virtq_disable_notify(vq);
		while ((r = virtio_queue_pop(vdev, q, e)) > 0) {
			uint32_t n = fill(e);

			rng->bytes_served += n;
			virtq_push(vq, e, n);
		}
		if (r < 0) {
			virtio_device_error(vdev, "malformed request queue");
			return;
		}
	} while (virtq_enable_notify(vq));
	virtio_queue_done(vdev, q);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.features = 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
	.config_size = 0,
	.queue_notify = rng_queue_notify,
};

void virtio_rng_init(struct virtio_rng *rng, const struct guest_mem *mem)
{
	rng->bytes_served = 0;
	virtio_dev_init(&rng->vdev, &rng_ops, rng, NULL, mem);
}
