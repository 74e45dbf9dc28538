/*
 * inbox-put HOME FILE [PID]: commits FILE as a Mandrill request body to the
 * inbox under HOME and prints its receipt, without draining it: the state a
 * process killed right after its acknowledgement leaves behind. With PID,
 * the entry stays claimed by that process, as one it acknowledged and has
 * yet to drain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db/store-private.h"

int
main(int argc, char **argv)
{
	struct mh_entry_meta meta = { .provider = "mandrill",
	    .received_ms = 1767225600000, .remote_addr = "test" };
	struct mh_store *st;
	uint64_t receipt;
	char *body;
	long n;
	FILE *fp;

	if ((argc != 3 && argc != 4) || (fp = fopen(argv[2], "rb")) == NULL) {
		fprintf(stderr, "usage: inbox-put HOME FILE [PID]\n");
		return 1;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if ((body = malloc((size_t)n + 1)) == NULL ||
	    fread(body, 1, (size_t)n, fp) != (size_t)n)
		return 1;
	fclose(fp);
	meta.bytes = (uint64_t)n;
	if (mh_store_open(argv[1], &st) != MH_STORE_OK)
		return 1;
	if (argc == 4)
		st->pid = (uint32_t)strtoul(argv[3], NULL, 10);
	if (mh_store_inbox_put(st, &meta, body, (size_t)n, &receipt) !=
	    MH_STORE_OK)
		return 1;
	printf("%llu\n", (unsigned long long)receipt);
	st->pid = (uint32_t)getpid();	/* the close lets go of its own claims */
	mh_store_close(st);
	free(body);
	return 0;
}
