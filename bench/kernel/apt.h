/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A private apt view of Debian's archive: the machine's own mirror, with
 * lists and downloads kept in the iommubench cache.  The view holds the
 * machine's release, Debian's current oldstable and stable releases (each
 * with its -updates, -security and -backports suites where the mirror has
 * them), sid and experimental, plus any suite asked for by name.  The
 * system's apt state is never touched.
 */
#ifndef IB_APT_H
#define IB_APT_H

#include <stdbool.h>
#include <stddef.h>

struct argv;

/* Set up (and, when stale or @refresh, update) the private apt state. */
int apt_init(bool refresh);
/*
 * apt_mirror - the URI of the machine's Debian mirror (the one its apt
 * configuration uses for "<codename> main", which serves every suite), for
 * a program that runs its own apt against it (mmdebstrap); caller frees.
 * NULL after printing why.
 */
char *apt_mirror(void);
/*
 * apt_validity_opts - the machine's Acquire::Check-Valid-Until and
 * Acquire::Check-Date settings, as 'Name "value"' apt options pushed on
 * @out (none when unset): another apt reaching the same mirror must judge
 * its Release files the way the machine's does.
 */
int apt_validity_opts(struct argv *out);
/* The machine's release codename ("bookworm"). */
const char *apt_codename(void);
/* The suites of the view, comma-separated ("bookworm, bookworm-updates"). */
const char *apt_suites(void);
/* Whether @suite is one of the view's suites. */
bool apt_has_suite(const char *suite);

/*
 * apt_add_suite - make @suite (a codename such as "trixie" or an alias such
 * as "stable") part of the view, with its -updates, -security and
 * -backports suites where the mirror has them, updating the lists if it was
 * not yet.  *@name gets the name the view knows it by ("stable" ->
 * "trixie"; caller frees).  -1 after printing why, e.g. the mirror has no
 * such suite.
 */
int apt_add_suite(const char *suite, char **name);

/*
 * apt_show - the stanzas apt-cache knows for @pkg ("name" or
 * "name=version"), as one string with stanzas separated by blank lines.
 * Caller frees.
 */
char *apt_show(const char *pkg);
/*
 * apt_stanza_field - copy field @name of the stanza starting at @stanza
 * (up to the next blank line) into a new string, or NULL when absent.
 */
char *apt_stanza_field(const char *stanza, const char *name);
/* apt_next_stanza - the stanza after @stanza, or NULL. */
const char *apt_next_stanza(const char *stanza);

/* One version of a binary package and the suite that offers it. */
struct apt_pkgver {
	char *pkg;
	char *version;
	char *suite;		/* "bookworm-security" */
};

/*
 * apt_madison - every (package, version, suite) the view offers for the
 * packages @pkgs (apt-cache madison).  *@out holds *@n entries; free with
 * apt_pkgvers_free().  0, or -1 after printing why.
 */
int apt_madison(char *const pkgs[], struct apt_pkgver **out, size_t *n);
void apt_pkgvers_free(struct apt_pkgver *v, size_t n);

/* Package names (real or virtual) starting with @prefix, pushed on @out. */
int apt_pkgnames(const char *prefix, struct argv *out);

/* Whether Debian version @a is newer than @b (dpkg --compare-versions). */
bool apt_version_gt(const char *a, const char *b);

/* Download "pkg=version" entries into @dir with apt-get download. */
int apt_download(const char *dir, char *const pkgs[]);

#endif /* IB_APT_H */
