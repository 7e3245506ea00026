/* main() for a fuzz target built without libFuzzer (gcc builds, ctest): feed every file of
 * the seed corpus, then a fixed number of repeatable mutations of those seeds. The sanitizer
 * build turns a memory error into a failure; the target's own property checks abort().
 * Usage: fuzz_<name> CORPUS_DIR [MUTATIONS] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRIVER_INPUT_MAX (64 * 1024)
#define DRIVER_SEEDS_MAX 256
#define DRIVER_DEFAULT_MUTATIONS 20000L

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seed {
	unsigned char *bytes;
	size_t len;
};

/* xorshift32: repeatable runs. */
static uint32_t next_random(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static int load_seed(const char *dir, const char *name, struct seed *out)
{
	char path[4096];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	out->bytes = malloc(DRIVER_INPUT_MAX);
	if (out->bytes == NULL) {
		fclose(f);
		return -1;
	}
	out->len = fread(out->bytes, 1, DRIVER_INPUT_MAX, f);
	fclose(f);
	return 0;
}

static size_t load_corpus(const char *dir, struct seed *seeds, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL) {
		fprintf(stderr, "cannot open corpus %s\n", dir);
		exit(2);
	}
	while ((e = readdir(d)) != NULL && n < max) {
		if (e->d_name[0] == '.')
			continue;
		if (load_seed(dir, e->d_name, &seeds[n]) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static size_t mutate(const struct seed *s, unsigned char *buf, uint32_t *rnd)
{
	size_t len = s->len;
	int flips = 1 + (int)(next_random(rnd) % 8);

	memcpy(buf, s->bytes, len);
	switch (next_random(rnd) % 4) {
	case 0: /* truncate */
		if (len > 0)
			len = next_random(rnd) % len;
		break;
	case 1: /* grow with random bytes */
		for (int i = 0; i < 16 && len < DRIVER_INPUT_MAX; i++)
			buf[len++] = (unsigned char)next_random(rnd);
		break;
	default:
		break;
	}
	for (int f = 0; f < flips && len > 0; f++)
		buf[next_random(rnd) % len] = (unsigned char)next_random(rnd);
	return len;
}

int main(int argc, char **argv)
{
	static struct seed seeds[DRIVER_SEEDS_MAX];
	static unsigned char buf[DRIVER_INPUT_MAX + 16];
	long mutations = argc > 2 ? atol(argv[2]) : DRIVER_DEFAULT_MUTATIONS;
	uint32_t rnd = 0x5a51u;
	size_t n;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS]\n", argv[0]);
		return 2;
	}
	n = load_corpus(argv[1], seeds, DRIVER_SEEDS_MAX);
	if (n == 0) {
		fprintf(stderr, "empty corpus %s\n", argv[1]);
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		LLVMFuzzerTestOneInput(seeds[i].bytes, seeds[i].len);
	for (long i = 0; i < mutations; i++) {
		size_t len = mutate(&seeds[next_random(&rnd) % n], buf, &rnd);
		LLVMFuzzerTestOneInput(buf, len);
	}
	for (size_t i = 0; i < n; i++)
		free(seeds[i].bytes);
	printf("%s: %zu seeds and %ld mutations, every property held\n", argv[0], n, mutations);
	return 0;
}
