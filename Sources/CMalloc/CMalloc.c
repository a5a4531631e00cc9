// Header-only target (see include/CMalloc.h); SwiftPM needs a source file to build it.
#include "CMalloc.h"
