/* See host_app_cli.h. Error codes: the OSSystemExtensionErrorCode enum of
 * <SystemExtensions/SystemExtensions.h> (Apple: "OSSystemExtensionError.Code"), values 1..13 in
 * declaration order; results: OSSystemExtensionRequestResult (0 completed, 1 after reboot). */
#include "host_app_cli.h"

#include <stdlib.h>
#include <string.h>

struct error_entry {
  const char* name;
  const char* hint;
};

/* Index = error code. */
static const struct error_entry kErrors[HOST_APP_LAST_ERROR_CODE + 1] = {
    {NULL, NULL},
    {"OSSystemExtensionErrorUnknown",
     "the system gave no reason; see `log show --predicate "
     "'process == \"sysextd\"' --last 5m`"},
    {"OSSystemExtensionErrorMissingEntitlement",
     "the app lacks com.apple.developer.system-extension.install, or the dext lacks an "
     "entitlement it needs; check both with `codesign -d --entitlements - <bundle>`"},
    {"OSSystemExtensionErrorUnsupportedParentBundleLocation",
     "the app must be in /Applications (or run `systemextensionsctl developer on` while "
     "developing)"},
    {"OSSystemExtensionErrorExtensionNotFound",
     "no Contents/Library/SystemExtensions/<bundle id>.dext in this app"},
    {"OSSystemExtensionErrorExtensionMissingIdentifier",
     "the dext's Info.plist has no "
     "CFBundleIdentifier"},
    {"OSSystemExtensionErrorDuplicateExtensionIdentifer",
     "two extensions in the app have the same bundle identifier"},
    {"OSSystemExtensionErrorUnknownExtensionCategory",
     "the bundle is not recognised as a driver extension (CFBundlePackageType must be DEXT)"},
    {"OSSystemExtensionErrorCodeSignatureInvalid",
     "the dext or the app is unsigned or badly signed; sign both with the same team and a "
     "provisioning profile that grants the dext's entitlements"},
    {"OSSystemExtensionErrorValidationFailed",
     "the system rejected the bundle; `usbserial-doctor check <bundle>.dext` lists what is wrong "
     "with its plists"},
    {"OSSystemExtensionErrorForbiddenBySystemPolicy",
     "a policy (MDM profile or security setting) forbids this extension"},
    {"OSSystemExtensionErrorRequestCanceled", "the request was canceled"},
    {"OSSystemExtensionErrorRequestSuperseded",
     "a newer request for the same extension replaced this one"},
    {"OSSystemExtensionErrorAuthorizationRequired",
     "the system could not get the authorization it needs; run the app as a logged-in "
     "administrator and approve the prompt"},
};

const char* host_app_error_name(long code) {
  if (code < 1 || code > HOST_APP_LAST_ERROR_CODE) {
    return NULL;
  }
  return kErrors[code].name;
}

const char* host_app_error_hint(long code) {
  if (code < 1 || code > HOST_APP_LAST_ERROR_CODE) {
    return NULL;
  }
  return kErrors[code].hint;
}

const char* host_app_result_name(long result) {
  switch (result) {
    case 0:
      return "OSSystemExtensionRequestCompleted";
    case 1:
      return "OSSystemExtensionRequestWillCompleteAfterReboot";
    default:
      return NULL;
  }
}

const char* host_app_usage(void) {
  return "usage: USBSerialBridge [--activate | --deactivate] [--no-wait] [--timeout SECONDS]\n"
         "       USBSerialBridge --status [--json]\n"
         "       USBSerialBridge --help | --version\n"
         "\n"
         "  --activate     install or update the driver extension embedded in this app\n"
         "  --deactivate   remove it\n"
         "  --status       the extension's state (macOS 12+), its ports and their statistics\n"
         "  --no-wait      return (exit 3) as soon as the request waits for the user's approval\n"
         "  --timeout S    stop waiting after S seconds (exit 3 if approval is still pending)\n"
         "  --json         --status as JSON\n"
         "\n"
         "Without arguments (launched from Finder) the app shows a window with the same actions.\n"
         "Exit status: 0 done, 1 failed (the error is printed by name), 2 usage, 3 waiting for\n"
         "approval, 4 completes after a restart, 5 (--status) not installed or not enabled.\n";
}

static bool fail(struct host_app_options* options, const char* error, const char* argument) {
  options->error = error;
  options->argument = argument;
  return false;
}

static bool set_command(struct host_app_options* options, enum host_app_command command,
                        const char* argument) {
  if (options->command != HOST_APP_GUI && options->command != command) {
    return fail(options, "give one of --activate, --deactivate, --status, --help, --version",
                argument);
  }
  options->command = command;
  return true;
}

bool host_app_parse(int argc, const char* const* argv, struct host_app_options* options) {
  options->command = HOST_APP_GUI;
  options->wait_for_approval = true;
  options->timeout_s = 0;
  options->json = false;
  options->error = NULL;
  options->argument = NULL;
  bool wait_given = false;
  bool timeout_given = false;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strncmp(arg, "-psn_", 5) == 0) {
      continue; /* process serial number, added by the Finder on older systems */
    }
    if (strcmp(arg, "--activate") == 0) {
      if (!set_command(options, HOST_APP_ACTIVATE, arg)) {
        return false;
      }
    } else if (strcmp(arg, "--deactivate") == 0) {
      if (!set_command(options, HOST_APP_DEACTIVATE, arg)) {
        return false;
      }
    } else if (strcmp(arg, "--status") == 0) {
      if (!set_command(options, HOST_APP_STATUS, arg)) {
        return false;
      }
    } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      if (!set_command(options, HOST_APP_HELP, arg)) {
        return false;
      }
    } else if (strcmp(arg, "--version") == 0) {
      if (!set_command(options, HOST_APP_VERSION, arg)) {
        return false;
      }
    } else if (strcmp(arg, "--no-wait") == 0) {
      options->wait_for_approval = false;
      wait_given = true;
    } else if (strcmp(arg, "--json") == 0) {
      options->json = true;
    } else if (strcmp(arg, "--timeout") == 0) {
      if (i + 1 >= argc) {
        return fail(options, "--timeout needs a number of seconds", arg);
      }
      const char* value = argv[++i];
      char* end = NULL;
      const double seconds = strtod(value, &end);
      if (end == value || *end != '\0' || !(seconds > 0) || seconds > 86400) {
        return fail(options, "--timeout takes seconds, more than 0 and at most 86400", value);
      }
      options->timeout_s = seconds;
      timeout_given = true;
    } else {
      return fail(options, "unknown argument", arg);
    }
  }
  const bool request =
      options->command == HOST_APP_ACTIVATE || options->command == HOST_APP_DEACTIVATE;
  if ((wait_given || timeout_given) && !request) {
    return fail(options, "--no-wait and --timeout go with --activate or --deactivate", NULL);
  }
  if (wait_given && timeout_given) {
    return fail(options, "--no-wait and --timeout exclude each other", NULL);
  }
  if (options->json && options->command != HOST_APP_STATUS) {
    return fail(options, "--json goes with --status", NULL);
  }
  return true;
}
