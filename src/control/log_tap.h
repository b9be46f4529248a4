/* `tinc log`: log lines copied to the control clients that asked for them. */
#ifndef FQTINC_CONTROL_LOG_TAP_H
#define FQTINC_CONTROL_LOG_TAP_H

void control_log_tap_start(void);
void control_log_tap_stop(void);

#endif
