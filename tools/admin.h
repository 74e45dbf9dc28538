/*
 * mailhooks-db's parts: the table of commands and its start (admin.c),
 * the commands that read and mend the environment (admin_commands.c),
 * restoring a backup (admin_restore.c), the accounts (admin_users.c),
 * the API tokens (admin_tokens.c), a notification (admin_notify.c), the
 * outbox (admin_mail.c), and the clients and campaigns
 * (admin_campaigns.c).
 */
#ifndef MH_ADMIN_H
#define MH_ADMIN_H

#include <stdint.h>

#include "db/store.h"

/* What a command is given: the data directory, its arguments, and the
 * storage opened (NULL for a command that opens none); and how its output
 * ended: the last seq written, standard output closed under it (| head),
 * a signal asking it to stop. */
struct mh_cmd_ctx {
	const char *home;
	int argc;
	char **argv;
	struct mh_store *st;
	uint64_t last;
	int out_gone;
	int stopped;
};

/* The commands: each returns the tool's exit status. */
int cmd_stats(struct mh_cmd_ctx *c);
int cmd_verify(struct mh_cmd_ctx *c);
int cmd_backup(struct mh_cmd_ctx *c);
int cmd_restore(struct mh_cmd_ctx *c);
int cmd_dump(struct mh_cmd_ctx *c);
int cmd_rejected(struct mh_cmd_ctx *c);
int cmd_drain(struct mh_cmd_ctx *c);
int cmd_reprocess(struct mh_cmd_ctx *c);
int cmd_reclassify(struct mh_cmd_ctx *c);
int cmd_prune(struct mh_cmd_ctx *c);
int cmd_erase(struct mh_cmd_ctx *c);
int cmd_user(struct mh_cmd_ctx *c);
int cmd_token(struct mh_cmd_ctx *c);
int cmd_notify(struct mh_cmd_ctx *c);
int cmd_mail(struct mh_cmd_ctx *c);
int cmd_client(struct mh_cmd_ctx *c);
int cmd_campaign(struct mh_cmd_ctx *c);

#endif
