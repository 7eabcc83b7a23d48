/* The portable part of the host app (main.m): its command line, its exit codes and the names of
 * the SystemExtensions framework's error codes and results. Plain C so that the Objective-C app
 * and the Linux unit test share it; main.m checks the numbers below against the SDK's enums at
 * compile time. */
#ifndef USBSERIAL_HOST_APP_CLI_H
#define USBSERIAL_HOST_APP_CLI_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum host_app_command {
  HOST_APP_GUI,        /* no command: the window (launched from Finder) */
  HOST_APP_ACTIVATE,   /* --activate */
  HOST_APP_DEACTIVATE, /* --deactivate */
  HOST_APP_STATUS,     /* --status */
  HOST_APP_HELP,       /* --help */
  HOST_APP_VERSION,    /* --version */
};

/* Exit codes of the command-line mode. */
enum host_app_exit {
  HOST_APP_EXIT_OK = 0,             /* the request completed */
  HOST_APP_EXIT_FAILED = 1,         /* the request failed; its error was printed by name */
  HOST_APP_EXIT_USAGE = 2,          /* bad command line */
  HOST_APP_EXIT_NEEDS_APPROVAL = 3, /* waiting for the user's approval when we stopped waiting */
  HOST_APP_EXIT_AFTER_REBOOT = 4,   /* the request completes after a restart */
  HOST_APP_EXIT_NOT_INSTALLED = 5,  /* --status: the extension is not installed or not enabled */
};

struct host_app_options {
  enum host_app_command command;
  bool wait_for_approval; /* false with --no-wait */
  double timeout_s;       /* --timeout S; 0 = no limit */
  bool json;              /* --status --json */
  const char* error;      /* set when parsing fails: what was wrong (static text) */
  const char* argument;   /* the offending argument, when there is one */
};

/* Parses argv (argv[0] is the program). Returns true on success; false with options->error set.
 * Arguments macOS adds when the app is launched from Finder ("-psn_...") are ignored. */
bool host_app_parse(int argc, const char* const* argv, struct host_app_options* options);

/* The usage text. */
const char* host_app_usage(void);

/* "OSSystemExtensionErrorAuthorizationRequired" for 13, etc.; NULL for an unknown code. */
const char* host_app_error_name(long code);

/* One sentence on what the error means for this app and what to do; NULL for an unknown code. */
const char* host_app_error_hint(long code);

/* "OSSystemExtensionRequestCompleted" / "OSSystemExtensionRequestWillCompleteAfterReboot";
 * NULL for an unknown value. */
const char* host_app_result_name(long result);

/* The highest OSSystemExtensionErrorCode this table knows (main.m checks the SDK agrees). */
#define HOST_APP_LAST_ERROR_CODE 13

#ifdef __cplusplus
}
#endif

#endif
