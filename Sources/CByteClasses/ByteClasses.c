// Everything is in include/CByteClasses.h (static inline); SwiftPM needs one source file per C target.
#include "CByteClasses.h"
