/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The case macro of the driver suites (null, mtty, dmatest): a tap.h TEST whose body runs
 * between the suite's setup() and teardown(), which start and stop the driver's module.
 */
#ifndef UMDEV_TESTS_VFIO_FIXTURE_TEST_H
#define UMDEV_TESTS_VFIO_FIXTURE_TEST_H

#include "tap.h"

/*
 * A case that runs with the driver's module started: the suite's fixture.h defines
 * struct fixture, setup() and teardown(); exit() removes whatever the body left.
 */
#define FIXTURE_TEST(name)                           \
	static void name##_body(struct fixture *f);  \
	TEST(name)                                   \
	{                                            \
		struct fixture fx;                   \
		if (setup(&fx)) {                    \
			name##_body(&fx);            \
			teardown(&fx);               \
		}                                    \
	}                                            \
	static void name##_body(struct fixture *f)

#endif
