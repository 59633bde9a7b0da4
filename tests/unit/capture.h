/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Capture what the code under test writes to stderr (its pr_err and
 * pr_warn), so a test can check that an error names its file.  The text
 * is echoed as TAP comments for the test's log.
 */
#ifndef IB_CAPTURE_H
#define IB_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *capture_file;
static int capture_saved_fd = -1;

static void capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	capture_saved_fd = dup(STDERR_FILENO);
	if (!capture_file || capture_saved_fd < 0 ||
	    dup2(fileno(capture_file), STDERR_FILENO) < 0) {
		perror("capture_begin");
		exit(99);
	}
}

/* The text written to stderr since capture_begin(); free() it. */
static char *capture_end(void)
{
	long len;
	char *text, *line, *save;

	fflush(stderr);
	dup2(capture_saved_fd, STDERR_FILENO);
	close(capture_saved_fd);
	len = ftell(capture_file);
	text = calloc(1, len + 1);
	rewind(capture_file);
	if (!text || fread(text, 1, len, capture_file) != (size_t)len) {
		perror("capture_end");
		exit(99);
	}
	fclose(capture_file);
	line = strdup(text);
	for (char *l = strtok_r(line, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		printf("# stderr: %s\n", l);
	free(line);
	return text;
}

#endif /* IB_CAPTURE_H */
