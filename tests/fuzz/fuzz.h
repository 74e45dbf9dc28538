/*
 * What the fuzz targets share: libFuzzer's entry point, and the check that
 * what a parser hands on is what it promises (JSON that is JSON).
 */
#ifndef MH_FUZZ_H
#define MH_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run (a finding) unless o prints as JSON by its RFC. */
static inline void
fuzz_valid_json(struct json_object *o)
{
	const char *text = mh_json_text(o);
	char why[160];

	if (mh_json_check(text, strlen(text), 64, why, sizeof(why)) != 0) {
		fprintf(stderr, "not JSON out: %s: %.200s\n", why, text);
		abort();
	}
}

#endif
