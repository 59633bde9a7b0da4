/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A private apt view of Debian's archive: the machine's own mirror for its
 * release, plus that release's backports, with lists and downloads kept in
 * the iommubench cache.  The system's apt state is never touched.
 */
#ifndef IB_APT_H
#define IB_APT_H

#include <stdbool.h>

/* Set up (and, when stale or @refresh, update) the private apt state. */
int apt_init(bool refresh);
/* The release codename the private view is built for ("bookworm"). */
const char *apt_codename(void);

/*
 * apt_show - the stanzas apt-cache knows for @pkg, as one string with
 * stanzas separated by blank lines.  Caller frees.
 */
char *apt_show(const char *pkg);
/*
 * apt_stanza_field - copy field @name of the stanza starting at @stanza
 * (up to the next blank line) into a new string, or NULL when absent.
 */
char *apt_stanza_field(const char *stanza, const char *name);
/* apt_next_stanza - the stanza after @stanza, or NULL. */
const char *apt_next_stanza(const char *stanza);

/* Whether Debian version @a is newer than @b (dpkg --compare-versions). */
bool apt_version_gt(const char *a, const char *b);

/* Download "pkg=version" entries into @dir with apt-get download. */
int apt_download(const char *dir, char *const pkgs[]);

#endif /* IB_APT_H */
