/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_main.c - runs the fuzz target once on each file given (or each file
 * in each directory given) without libFuzzer, so that every compiler's
 * build exercises the target and its corpus.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf) {
				fclose(f);
				return -1;
			}
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int run_dir(const char *path, int *count)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char name[4096];
	int ret = 0;

	if (!d) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL && ret == 0) {
		if (de->d_name[0] == '.') {
			continue;
		}
		snprintf(name, sizeof(name), "%s/%s", path, de->d_name);
		ret = run_file(name);
		(*count)++;
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	int count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int ret;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			ret = run_dir(argv[i], &count);
		} else {
			ret = run_file(argv[i]);
			count++;
		}
		if (ret < 0) {
			return 1;
		}
	}
	printf("%d inputs ran without a broken invariant\n", count);
	return count > 0 ? 0 : 1;
}
