/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics over repeated measurements.  The analysis builds on these;
 * the run summary uses the median.
 */
#ifndef IB_STATS_H
#define IB_STATS_H

#include <stddef.h>

/* stats_median - median of @n values (@v is not modified); NaN if n == 0. */
double stats_median(const double *v, size_t n);

#endif /* IB_STATS_H */
