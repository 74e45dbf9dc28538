/* mailhooks-db's arguments: the input is argv, its words split at NUL
 * bytes. What parses names a command of the table, its arguments within
 * the command's bounds. */
#define main mh_admin_main
#include "tools/admin.c"
#undef main

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *argv[18] = { "mailhooks-db" };
	struct mh_cmd_ctx c = { .home = NULL };
	const struct mh_command *cmd = NULL;
	FILE *quiet = fopen("/dev/null", "w"), *err = stderr;
	int argc = 1;

	if (text == NULL || quiet == NULL) {
		free(text);
		if (quiet != NULL)
			fclose(quiet);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i <= size && argc < 17; i++)
		if (i == 0 || text[i - 1] == '\0')
			argv[argc++] = text + i;
	argv[argc] = NULL;
	optind = 0;	/* glibc: start afresh */
	stderr = quiet;
	if (parse_args(argc, argv, &c, &cmd) == 0 && (cmd == NULL ||
	    c.argc < cmd->min_args || c.argc > cmd->max_args || c.home == NULL))
		abort();
	stderr = err;
	fclose(quiet);
	free(text);
	return 0;
}
