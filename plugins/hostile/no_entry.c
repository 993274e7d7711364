/*
 * no_entry.c: test fixture, a well-formed shared object that exports code but no entry symbol.
 *
 * The load must fail on the missing bulkhead_plugin_v1, not crash on a NULL lookup.
 */
#include "bulkhead_plugin.h"

BH_PLUGIN_EXPORT int no_entry_answer(void);

BH_PLUGIN_EXPORT int no_entry_answer(void) { return 42; }
