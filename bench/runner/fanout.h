/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fan-out: the boots of a run as GNU parallel jobs across SSH hosts.
 *
 * The unit a host takes is a round of the plan (every configuration once,
 * in the seeded order), so each host runs interleaved, seeded sequences
 * and a host is a balanced block, never confounded with a configuration.
 * A job is a small run directory (the run's manifest cut down to the
 * round's pending cells) that GNU parallel copies to a host, where
 * 'iommubench fanout-job' runs it with the same runner as a local run
 * (VM boots, or host mode on that host's hardware) and parallel brings
 * it back; the cells are merged into the run, each naming its host.
 * parallel's --retries hands a round that failed on a host (a dead host:
 * ssh fails) to another; its --joblog is what --resume continues from.
 */
#ifndef IB_FANOUT_H
#define IB_FANOUT_H

#include <signal.h>
#include <stdbool.h>

#include <json-c/json.h>

struct fanout_opts {
	const char *hosts;		/* sshloginfile; NULL: the run's copy */
	unsigned int retries;		/* parallel --retries */
	bool force;			/* host mode: run --force on the hosts */
	bool tty;			/* progress as a redrawn line */
	volatile sig_atomic_t *stop;	/* set by a signal: stop the jobs */
};

#define FANOUT_OPTS_DEFAULT { .retries = 3 }

/* Was the run of @manifest fanned out (its manifest says so)? */
bool fanout_recorded(struct json_object *manifest);

/*
 * fanout_run - run the boots of the run in @dir (manifest @man) that have
 * cells without a result, across the hosts, and merge what comes back
 * into @dir (cells/, logs/, and per boot in @man: the host that ran it).
 * @man gains "fanout" (hosts, retries) and "hosts" (each host's identity)
 * and is saved.  Returns the number of cells still without a result (a
 * round no host completed), or -1 when nothing could be started, after
 * saying why.
 */
int fanout_run(const char *dir, struct json_object *man,
	       const struct fanout_opts *o);

/*
 * iommubench fanout --hosts FILE --stage DIR RUN...: the rounds of several
 * prepared runs (run --prepare) in one GNU parallel, so that commits
 * --hosts keeps every host busy across commits (hidden).
 */
int cmd_fanout(int argc, char **argv);

/* iommubench fanout-job JOBDIR: a host's side of one job (hidden). */
int cmd_fanout_job(int argc, char **argv);

#endif /* IB_FANOUT_H */
