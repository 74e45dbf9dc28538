/*
 * inbox-put HOME FILE: commits FILE as a Mandrill request body to the inbox
 * under HOME and prints its receipt, without draining it: the state a
 * process killed right after its acknowledgement leaves behind.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../db/store.h"

int
main(int argc, char **argv)
{
	struct mh_store *st;
	uint64_t receipt;
	char *body;
	long n;
	FILE *fp;

	if (argc != 3 || (fp = fopen(argv[2], "rb")) == NULL) {
		fprintf(stderr, "usage: inbox-put HOME FILE\n");
		return 1;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if ((body = malloc((size_t)n + 1)) == NULL ||
	    fread(body, 1, (size_t)n, fp) != (size_t)n)
		return 1;
	fclose(fp);
	if (mh_store_open(argv[1], &st) != MH_STORE_OK)
		return 1;
	if (mh_store_inbox_put(st, "{\"provider\":\"mandrill\",\"received_at\":"
	    "\"2026-01-01T00:00:00.000Z\",\"remote_addr\":\"test\"}", body,
	    (size_t)n, &receipt) != MH_STORE_OK)
		return 1;
	printf("%llu\n", (unsigned long long)receipt);
	mh_store_close(st);
	free(body);
	return 0;
}
