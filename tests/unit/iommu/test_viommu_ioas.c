// SPDX-License-Identifier: GPL-2.0
/*
 * Assigned devices behind the virtio-iommu: a real device model driven by
 * guest requests (ATTACH, DETACH, MAP, UNMAP, config.bypass, reset) with
 * the viommu_ioas listener mirroring its domains into a fake iommufd that
 * keeps every IOAS and its mappings, and a fake assigned device that
 * records which IOAS it is attached to.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "iommu/uapi_iommufd.h"
#include "iommu/viommu_ioas.h"
#include "iommu/virtio_iommu.h"
#include "vmm/evloop.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (1 << 20)
static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct evloop loop;

#define QSIZE 16
#include "virtio_iommu_test_driver.h"

#define DMA_TARGET (RAM_BASE + 0x80000) /* what mappings point at */
#define EP_DEV	   8			/* the assigned device's endpoint */
#define EP_EMU	   9			/* an emulated device's endpoint */

/* ---- fake iommufd: IOAS objects and what is mapped in them ---- */

#define FAKE_MAX_IOAS 16
#define FAKE_MAX_MAPS 16
#define FAKE_FIRST_ID 100

struct fake_map {
	uint64_t iova, len;
	uint64_t user_va;  /* IOMMU_IOAS_MAP */
	int fd;		   /* IOMMU_IOAS_MAP_FILE, else -1 */
	uint64_t file_off; /* IOMMU_IOAS_MAP_FILE */
	uint32_t flags;
};

struct fake_ioas {
	uint32_t id;
	bool alive;
	struct fake_map maps[FAKE_MAX_MAPS];
	unsigned int nr_maps;
	unsigned int map_calls; /* successful maps ever made in it */
};

struct fake_iommufd {
	struct fake_ioas ioas[FAKE_MAX_IOAS];
	unsigned int nr_ioas;
	unsigned int allocs, destroys, maps, unmaps;
	/* Fail the map call numbered fail_map_at (1-based, counted over
	 * every map) and all after it with map_err; 0: never. */
	unsigned int fail_map_at;
	int map_err;
};

static struct fake_iommufd fk;
static struct iommufd ifd;

static struct fake_ioas *fake_find(uint32_t id)
{
	for (unsigned int i = 0; i < fk.nr_ioas; i++)
		if (fk.ioas[i].id == id)
			return &fk.ioas[i];
	return NULL;
}

static struct fake_ioas *fake_live(uint32_t id)
{
	struct fake_ioas *a = fake_find(id);

	cr_assert(a && a->alive, "IOAS %u is not alive", id);
	return a;
}

static int fake_add_map(const struct fake_map *fm, uint32_t ioas)
{
	struct fake_ioas *a = fake_live(ioas);

	fk.maps++;
	if (fk.fail_map_at && fk.maps >= fk.fail_map_at)
		return fk.map_err;
	cr_assert(fm->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	cr_assert(fm->flags & IOMMU_IOAS_MAP_READABLE);
	for (unsigned int i = 0; i < a->nr_maps; i++)
		if (fm->iova <= a->maps[i].iova + a->maps[i].len - 1 &&
		    a->maps[i].iova <= fm->iova + fm->len - 1)
			return -EEXIST;
	cr_assert_lt(a->nr_maps, FAKE_MAX_MAPS);
	a->maps[a->nr_maps++] = *fm;
	a->map_calls++;
	return 0;
}

/* iommufd: every area inside the window goes; one crossing it fails. */
static int fake_unmap(const struct iommu_ioas_unmap *u)
{
	struct fake_ioas *a = fake_live(u->ioas_id);
	uint64_t last = u->iova + (u->length - 1);
	unsigned int kept = 0, gone = 0;

	fk.unmaps++;
	cr_assert_geq(last, u->iova, "unmap window wraps");
	for (unsigned int i = 0; i < a->nr_maps; i++) {
		const struct fake_map *fm = &a->maps[i];
		uint64_t fm_last = fm->iova + fm->len - 1;

		if (fm_last < u->iova || fm->iova > last) {
			a->maps[kept++] = *fm;
			continue;
		}
		cr_assert(fm->iova >= u->iova && fm_last <= last,
			  "unmap splits [%#lx, %#lx]", (unsigned long)fm->iova,
			  (unsigned long)fm_last);
		gone++;
	}
	a->nr_maps = kept;
	return gone ? 0 : -ENOENT;
}

static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	cr_assert_eq(opaque, &fk);
	cr_assert_eq(fd, -1);

	switch (req) {
	case IOMMU_IOAS_ALLOC: {
		struct iommu_ioas_alloc *a = arg;

		cr_assert_eq(a->size, sizeof(*a));
		cr_assert_lt(fk.nr_ioas, FAKE_MAX_IOAS);
		fk.ioas[fk.nr_ioas] = (struct fake_ioas){
			.id = FAKE_FIRST_ID + fk.nr_ioas,
			.alive = true,
		};
		a->out_ioas_id = fk.ioas[fk.nr_ioas++].id;
		fk.allocs++;
		return 0;
	}
	case IOMMU_DESTROY: {
		struct iommu_destroy *d = arg;

		cr_assert_eq(d->size, sizeof(*d));
		fake_live(d->id)->alive = false;
		fake_find(d->id)->nr_maps = 0;
		fk.destroys++;
		return 0;
	}
	case IOMMU_IOAS_MAP: {
		struct iommu_ioas_map *mp = arg;

		cr_assert_eq(mp->size, sizeof(*mp));
		return fake_add_map(&(struct fake_map){ .iova = mp->iova,
							.len = mp->length,
							.user_va = mp->user_va,
							.fd = -1,
							.flags = mp->flags },
				    mp->ioas_id);
	}
	case IOMMU_IOAS_MAP_FILE: {
		struct iommu_ioas_map_file *mp = arg;

		cr_assert_eq(mp->size, sizeof(*mp));
		return fake_add_map(&(struct fake_map){ .iova = mp->iova,
							.len = mp->length,
							.fd = mp->fd,
							.file_off = mp->start,
							.flags = mp->flags },
				    mp->ioas_id);
	}
	case IOMMU_IOAS_UNMAP: {
		struct iommu_ioas_unmap *u = arg;

		cr_assert_eq(u->size, sizeof(*u));
		return fake_unmap(u);
	}
	default:
		cr_assert_fail("unexpected ioctl 0x%lx", req);
		return -ENOTTY;
	}
}

static const struct iommufd_ops fake_ops = { .ioctl = fake_ioctl };

/* The mapping of @ioas at @iova, which must exist. */
static const struct fake_map *mapping_at(uint32_t ioas, uint64_t iova)
{
	struct fake_ioas *a = fake_live(ioas);

	for (unsigned int i = 0; i < a->nr_maps; i++)
		if (a->maps[i].iova == iova)
			return &a->maps[i];
	cr_assert_fail("IOAS %u has nothing at %#lx", ioas,
		       (unsigned long)iova);
	return NULL;
}

/* @fm maps guest physical @gpa: by host VA, or by offset in the RAM file. */
static void assert_maps_gpa(const struct fake_map *fm, uint64_t gpa)
{
	if (fm->fd >= 0)
		cr_assert_eq(fm->file_off, gpa - RAM_BASE);
	else
		cr_assert_eq(fm->user_va, (uintptr_t)(ram + (gpa - RAM_BASE)));
}

/* ---- fake assigned device ---- */

struct fake_dev {
	uint32_t id;
	uint32_t pt;	       /* where attach_pt put it */
	unsigned int attaches; /* attach_pt calls */
	int attach_err;	       /* what attach_pt returns, 0: works */
};

static struct fake_dev dev;

static bool fake_has_id(void *ctx, uint32_t id)
{
	return id == ((struct fake_dev *)ctx)->id;
}

static int fake_attach_pt(void *ctx, uint32_t pt)
{
	struct fake_dev *d = ctx;

	d->attaches++;
	if (d->attach_err)
		return d->attach_err;
	fake_live(pt);
	d->pt = pt;
	return 0;
}

/* ---- the fixture ---- */

static struct viommu_ioas vi;
static uint32_t identity;

static void setup_with(bool bypass)
{
	struct virtio_iommu_params p = { .bypass = bypass };

	memset(ram, 0, sizeof(ram));
	memset(&fk, 0, sizeof(fk));
	raises = 0;
	gmem_wrap(&mem, RAM_BASE, ram, RAM_SIZE);
	cr_assert_eq(evloop_init(&loop, 32), 0);
	cr_assert_eq(virtio_iommu_init(&viommu, &mem, &p), 0);
	cr_assert_eq(virtio_iommu_add_endpoint(&viommu, EP_DEV), 0);
	cr_assert_eq(virtio_iommu_add_endpoint(&viommu, EP_EMU), 0);
	cr_assert_eq(virtio_mmio_init(&m, &viommu.vdev, &host, 0x0b000000, 16),
		     0);

	/* The VM's identity IOAS: all guest RAM at IOVA = GPA. */
	iommufd_init_fake(&ifd, &fake_ops, &fk);
	cr_assert_eq(iommufd_ioas_alloc(&ifd, &identity), 0);
	cr_assert_eq(iommufd_ioas_map(&ifd, identity, RAM_BASE, RAM_SIZE, ram,
				      -1, 0, true),
		     0);
	/* Like vm.c: the device sits in the identity IOAS until start. */
	dev = (struct fake_dev){ .id = EP_DEV, .pt = identity };
	cr_assert_eq(viommu_ioas_init(&vi, &ifd, &mem, identity), 0);
	cr_assert_neq(vi.blocked_ioas, identity);
	cr_assert_eq(viommu_ioas_add_dev(&vi,
					 &(struct viommu_ioas_dev){
						 .name = "fake-vfio",
						 .has_id = fake_has_id,
						 .ctx = &dev,
						 .attach_pt = fake_attach_pt,
						 .pt = identity,
					 }),
		     0);
	cr_assert_eq(viommu_ioas_start(&vi, &viommu), 0);
	virtio_iommu_set_listener(&viommu, &vi.listener);
	driver_init(ALL_FEATURES);
	/* What setup did is not what the tests count. */
	fk.allocs = fk.destroys = fk.maps = fk.unmaps = 0;
	dev.attaches = 0;
	vi.maps = vi.unmaps = vi.attaches = vi.failures = 0;
}

static void setup(void)
{
	setup_with(false);
}

static void setup_bypass(void)
{
	setup_with(true);
}

static void teardown(void)
{
	virtio_iommu_set_listener(&viommu, NULL);
	viommu_ioas_destroy(&vi);
	virtio_iommu_destroy(&viommu);
	evloop_destroy(&loop);
}

/* Criterion runs a suite's fixtures and a test's own both: one suite each. */
TestSuite(viommu_ioas, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(viommu_ioas_bypass, .init = setup_bypass, .fini = teardown,
	  .timeout = 30);

/* The IOAS the guest's domain @id is mirrored by (must exist). */
static uint32_t domain_ioas(uint32_t id)
{
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		if (viommu.domains[i].in_use && viommu.domains[i].id == id) {
			cr_assert(vi.doms[i].in_use, "domain %u has no IOAS",
				  id);
			return vi.doms[i].ioas;
		}
	cr_assert_fail("no domain %u", id);
	return 0;
}

static bool domain_has_ioas(uint32_t id)
{
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		if (viommu.domains[i].in_use && viommu.domains[i].id == id)
			return vi.doms[i].in_use;
	return false;
}

static unsigned int domain_mappings(uint32_t id)
{
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		if (viommu.domains[i].in_use && viommu.domains[i].id == id)
			return viommu.domains[i].mappings.count;
	cr_assert_fail("no domain %u", id);
	return 0;
}

static unsigned int live_ioas(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fk.nr_ioas; i++)
		n += fk.ioas[i].alive;
	return n;
}

static void write_bypass(uint8_t on)
{
	virtio_config_write(&viommu.vdev, 36, &on, 1);
}

/* ---- 1. start-up placement ---- */

Test(viommu_ioas, start_without_bypass_blocks_the_device)
{
	cr_assert_eq(dev.pt, vi.blocked_ioas);
	cr_assert_eq(vi.devs[0].pt, vi.blocked_ioas);
	cr_assert_not(vi.devs[0].in_domain);
	cr_assert_eq(fake_live(vi.blocked_ioas)->nr_maps, 0, "blocked: empty");
}

Test(viommu_ioas_bypass, start_with_bypass_leaves_the_device_in_identity)
{
	cr_assert_eq(dev.pt, identity);
	cr_assert_eq(vi.devs[0].pt, identity);
	cr_assert_not(vi.devs[0].in_domain);
	cr_assert_eq(fake_live(identity)->nr_maps, 1);
}

/* ---- 2. attach, map, unmap ---- */

Test(viommu_ioas, attach_moves_the_device_and_map_unmap_follow)
{
	const struct fake_map *fm;
	uint32_t ioas;

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(fk.allocs, 1, "a new IOAS for the domain");
	ioas = domain_ioas(1);
	cr_assert_neq(ioas, identity);
	cr_assert_neq(ioas, vi.blocked_ioas);
	cr_assert_eq(dev.pt, ioas);
	cr_assert(vi.devs[0].in_domain);
	cr_assert_eq(fake_live(ioas)->nr_maps, 0);

	cr_assert_eq(map(1, 0x10000, 0x1ffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x40000, 0x40fff, DMA_TARGET + 0x3000,
			 VIRTIO_IOMMU_MAP_F_READ),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(fake_live(ioas)->nr_maps, 2);
	fm = mapping_at(ioas, 0x10000);
	cr_assert_eq(fm->len, 0x10000);
	assert_maps_gpa(fm, DMA_TARGET);
	cr_assert(fm->flags & IOMMU_IOAS_MAP_WRITEABLE);
	fm = mapping_at(ioas, 0x40000);
	cr_assert_eq(fm->len, 0x1000);
	assert_maps_gpa(fm, DMA_TARGET + 0x3000);
	cr_assert_not(fm->flags & IOMMU_IOAS_MAP_WRITEABLE,
		      "read-only MAP: read-only IOAS mapping");

	cr_assert_eq(unmap(1, 0x10000, 0x1ffff), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(fake_live(ioas)->nr_maps, 1);
	mapping_at(ioas, 0x40000);
	cr_assert_eq(unmap(1, 0, 0xfffff), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(fake_live(ioas)->nr_maps, 0);
	cr_assert_eq(dev.attaches, 1);
}

Test(viommu_ioas, an_emulated_endpoint_alone_gets_no_ioas)
{
	cr_assert_eq(attach(1, EP_EMU), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000, 0x1ffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_not(domain_has_ioas(1));
	cr_assert_eq(fk.allocs, 0);
	cr_assert_eq(fk.maps, 0);
	cr_assert_eq(dev.pt, vi.blocked_ioas, "the device did not move");
	cr_assert_eq(dev.attaches, 0);
}

/* ---- 3. replay ---- */

Test(viommu_ioas, maps_made_before_the_device_joins_are_replayed_once)
{
	uint32_t ioas;

	cr_assert_eq(attach(1, EP_EMU), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000, 0x1ffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x30000, 0x30fff, DMA_TARGET + 0x20000,
			 VIRTIO_IOMMU_MAP_F_READ),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x50000, 0x51fff, DMA_TARGET + 0x10000,
			 VIRTIO_IOMMU_MAP_F_WRITE),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(fk.maps, 0);

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	ioas = domain_ioas(1);
	cr_assert_eq(dev.pt, ioas);
	cr_assert_eq(fk.allocs, 1);
	cr_assert_eq(fk.maps, 3, "each mapping replayed exactly once");
	cr_assert_eq(fake_live(ioas)->nr_maps, 3);
	assert_maps_gpa(mapping_at(ioas, 0x10000), DMA_TARGET);
	cr_assert(mapping_at(ioas, 0x10000)->flags & IOMMU_IOAS_MAP_WRITEABLE);
	assert_maps_gpa(mapping_at(ioas, 0x30000), DMA_TARGET + 0x20000);
	cr_assert_eq(mapping_at(ioas, 0x30000)->len, 0x1000);
	cr_assert_not(mapping_at(ioas, 0x30000)->flags &
		      IOMMU_IOAS_MAP_WRITEABLE);
	assert_maps_gpa(mapping_at(ioas, 0x50000), DMA_TARGET + 0x10000);
	cr_assert_eq(mapping_at(ioas, 0x50000)->len, 0x2000);

	/* Attaching the emulated endpoint again replays nothing. */
	cr_assert_eq(attach(1, EP_EMU), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(fk.maps, 3);
	cr_assert_eq(fk.allocs, 1);
	/* Later maps go straight in. */
	cr_assert_eq(map(1, 0x60000, 0x60fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(fk.maps, 4);
	cr_assert_eq(fake_live(ioas)->nr_maps, 4);
}

/* ---- 4. moving between domains, detach, config.bypass ---- */

Test(viommu_ioas, reattach_replaces_and_frees_the_old_ioas)
{
	uint32_t first, second;

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	first = domain_ioas(1);
	cr_assert_eq(map(1, 0x10000, 0x10fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(2, EP_DEV), VIRTIO_IOMMU_S_OK);
	second = domain_ioas(2);
	cr_assert_neq(first, second);
	cr_assert_eq(dev.pt, second, "moved by one replace");
	cr_assert_eq(dev.attaches, 2);
	cr_assert_not(fake_find(first)->alive, "domain 1 lost its last ep");
	cr_assert_eq(fk.destroys, 1);
	cr_assert_eq(fake_live(second)->nr_maps, 0);
	cr_assert_eq(live_ioas(), 3, "identity, blocked, domain 2");
}

Test(viommu_ioas, an_old_domain_with_endpoints_left_keeps_its_ioas)
{
	uint32_t first;

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(1, EP_EMU), VIRTIO_IOMMU_S_OK);
	first = domain_ioas(1);
	cr_assert_eq(attach(2, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(dev.pt, domain_ioas(2));
	cr_assert(fake_find(first)->alive);
	cr_assert_eq(detach(1, EP_EMU), VIRTIO_IOMMU_S_OK);
	cr_assert_not(fake_find(first)->alive);
}

Test(viommu_ioas, detach_without_bypass_blocks_again)
{
	uint32_t ioas;

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	ioas = domain_ioas(1);
	cr_assert_eq(detach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(dev.pt, vi.blocked_ioas);
	cr_assert_not(vi.devs[0].in_domain);
	cr_assert_not(fake_find(ioas)->alive);
	cr_assert_eq(live_ioas(), 2);
}

Test(viommu_ioas_bypass, detach_with_bypass_returns_to_identity)
{
	uint32_t ioas;

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	ioas = domain_ioas(1);
	cr_assert_eq(dev.pt, ioas);
	cr_assert_eq(detach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(dev.pt, identity);
	cr_assert_not(fake_find(ioas)->alive);
}

Test(viommu_ioas, config_bypass_moves_only_unattached_devices)
{
	write_bypass(1);
	cr_assert_eq(dev.pt, identity, "unattached: follows bypass");
	write_bypass(0);
	cr_assert_eq(dev.pt, vi.blocked_ioas);

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	write_bypass(1);
	cr_assert_eq(dev.pt, domain_ioas(1), "attached: stays");
	write_bypass(0);
	cr_assert_eq(dev.pt, domain_ioas(1));
	cr_assert_eq(dev.attaches, 3);
}

Test(viommu_ioas, a_bypass_domain_is_identity_and_ignores_config_bypass)
{
	cr_assert_eq(attach_flags(3, EP_DEV, VIRTIO_IOMMU_ATTACH_F_BYPASS),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(dev.pt, identity);
	cr_assert(vi.devs[0].in_domain);
	cr_assert_eq(fk.allocs, 0, "no IOAS of its own");
	write_bypass(1);
	write_bypass(0);
	cr_assert_eq(dev.pt, identity, "attached (bypass domain): stays");
	cr_assert_eq(detach(3, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(dev.pt, vi.blocked_ioas);
	cr_assert_eq(fk.destroys, 0);
}

/* ---- 5. failures ---- */

Test(viommu_ioas, a_failing_ioas_map_fails_the_map_with_nomem)
{
	uint32_t ioas;

	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	ioas = domain_ioas(1);
	fk.fail_map_at = 1;
	fk.map_err = -ENOMEM;
	cr_assert_eq(map(1, 0x10000, 0x1ffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_NOMEM);
	cr_assert_eq(domain_mappings(1), 0, "the tree did not keep it");
	cr_assert_eq(fake_live(ioas)->nr_maps, 0);
	/* The same MAP works once the host can map again. */
	fk.fail_map_at = 0;
	cr_assert_eq(map(1, 0x10000, 0x1ffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(domain_mappings(1), 1);
	cr_assert_eq(fake_live(ioas)->nr_maps, 1);
}

Test(viommu_ioas, a_failing_attach_pt_fails_attach_with_deverr)
{
	uint32_t first;

	dev.attach_err = -EBUSY;
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_DEVERR);
	cr_assert_eq(dev.pt, vi.blocked_ioas, "stayed where it was");
	cr_assert_not(vi.devs[0].in_domain);
	cr_assert_eq(live_ioas(), 2, "the new domain's IOAS went away");
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_NOENT,
		     "and so did the new domain");

	/* From a domain to another: stays in the first. */
	dev.attach_err = 0;
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	first = domain_ioas(1);
	dev.attach_err = -EBUSY;
	cr_assert_eq(attach(2, EP_DEV), VIRTIO_IOMMU_S_DEVERR);
	cr_assert_eq(dev.pt, first);
	cr_assert(fake_find(first)->alive);
	cr_assert_eq(viommu.endpoints[0].domain->id, 1);
	cr_assert_eq(live_ioas(), 3);
}

Test(viommu_ioas, a_replay_failure_leaves_no_half_filled_ioas)
{
	uint32_t ioas;

	cr_assert_eq(attach(1, EP_EMU), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000, 0x10fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x20000, 0x20fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x30000, 0x30fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	fk.fail_map_at = 2;
	fk.map_err = -ENOMEM;
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_DEVERR);
	cr_assert_eq(fk.allocs, 1);
	cr_assert_eq(fk.destroys, 1, "the partial IOAS was destroyed");
	cr_assert_eq(live_ioas(), 2);
	cr_assert_not(domain_has_ioas(1));
	cr_assert_eq(dev.pt, vi.blocked_ioas);
	cr_assert_eq(dev.attaches, 0, "never moved into it");
	/* Later MAPs do not go to a dead IOAS. */
	cr_assert_eq(map(1, 0x40000, 0x40fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);

	/* The next attach replays everything again. */
	fk.fail_map_at = 0;
	fk.maps = 0;
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	ioas = domain_ioas(1);
	cr_assert_eq(dev.pt, ioas);
	cr_assert_eq(fk.maps, 4);
	cr_assert_eq(fake_live(ioas)->nr_maps, 4);
}

/* ---- 6. device reset ---- */

Test(viommu_ioas, device_reset_unattaches_and_destroys_every_domain_ioas)
{
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000, 0x10fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(2, EP_EMU), VIRTIO_IOMMU_S_OK);
	/* Domain 2 gets an IOAS once the device passes through it. */
	cr_assert_eq(attach(2, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(live_ioas(), 4);

	mwr(&m, VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(dev.pt, vi.blocked_ioas);
	cr_assert_not(vi.devs[0].in_domain);
	cr_assert_eq(live_ioas(), 2, "identity and blocked only");
	cr_assert(fake_live(identity));
	cr_assert(fake_live(vi.blocked_ioas));
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		cr_assert_not(vi.doms[i].in_use);
}

Test(viommu_ioas_bypass, device_reset_with_bypass_returns_to_identity)
{
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	mwr(&m, VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(dev.pt, identity);
	cr_assert_eq(live_ioas(), 2);
	/* A new driver starts over. */
	driver_init(ALL_FEATURES);
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(dev.pt, domain_ioas(1));
}

/* ---- 7. statistics ---- */

Test(viommu_ioas, statistics_count_maps_unmaps_attaches_and_failures)
{
	cr_assert_eq(attach(1, EP_EMU), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000, 0x10fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK); /* no IOAS yet: not counted */
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK); /* 1 replay */
	cr_assert_eq(map(1, 0x20000, 0x20fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	fk.fail_map_at = 3;
	fk.map_err = -ENOSPC;
	cr_assert_eq(map(1, 0x30000, 0x30fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_NOMEM);
	fk.fail_map_at = 0;
	cr_assert_eq(unmap(1, 0x10000, 0x10fff), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(unmap(1, 0x30000, 0x30fff), VIRTIO_IOMMU_S_OK,
		     "nothing there: no unmap at all");
	dev.attach_err = -EIO;
	cr_assert_eq(attach(2, EP_DEV), VIRTIO_IOMMU_S_DEVERR);
	dev.attach_err = 0;
	cr_assert_eq(detach(1, EP_DEV), VIRTIO_IOMMU_S_OK);

	cr_assert_eq(vi.maps, 3);
	cr_assert_eq(vi.maps, fk.maps);
	cr_assert_eq(vi.unmaps, 1);
	cr_assert_eq(vi.unmaps, fk.unmaps);
	cr_assert_eq(vi.attaches, 3, "domain 1, failed domain 2, detach");
	cr_assert_eq(vi.attaches, dev.attaches);
	cr_assert_eq(vi.failures, 2, "one map, one attach");
}

/* ---- shutdown ---- */

Test(viommu_ioas, destroy_releases_every_ioas_it_made)
{
	cr_assert_eq(attach(1, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(2, EP_EMU), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(2, EP_DEV), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(live_ioas(), 3);
	/* vm.c's order: the listener goes first, then the mirror. */
	virtio_iommu_set_listener(&viommu, NULL);
	viommu_ioas_destroy(&vi);
	cr_assert_eq(live_ioas(), 1, "only the VM's identity IOAS is left");
	cr_assert(fake_live(identity));
	/* Nothing left for the fixture's teardown to destroy. */
	memset(vi.doms, 0, sizeof(vi.doms));
	vi.blocked_ioas = 0;
}
