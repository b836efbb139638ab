#ifndef NATX_CLOCK_H
#define NATX_CLOCK_H

/* The system clocks in milliseconds: the one place they are read, so
 * the options' clock seam (nattel_options_set_clock) has one default. */

#include <stdint.h>

/* Unix time in ms (CLOCK_REALTIME): stamps events. */
int64_t natx_clock_realtime_ms(void);
/* ms from an arbitrary origin that never jumps (CLOCK_MONOTONIC):
 * durations, deadlines, back-off. */
int64_t natx_clock_monotonic_ms(void);

#endif
