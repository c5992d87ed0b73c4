/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay_main.c - test-only driver: `replay-driver FILE` does what
 * `gpsppsd --replay FILE` does, so that the replay test can run before (and
 * independently of) the daemon's main.
 */
#include <stdio.h>

#include "replay.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE|-\n", argv[0]);
		return 2;
	}
	return replay_run(argv[1], stdout, stderr) < 0 ? 1 : 0;
}
