/* The protocol code is shared with the host (microvm/agentproto.c); the
 * agent is built from microvm/guest/ only, so it compiles it in here. */
#include "microvm/agentproto.c"
