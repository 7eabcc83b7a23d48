// USBSerialBridge host app: installs (activates), removes (deactivates) and reports the driver
// extension embedded at Contents/Library/SystemExtensions/<dext id>.dext, through the
// SystemExtensions framework's OSSystemExtensionRequest (docs/driverkit-reference.md §4.1 item 8).
//
// Objective-C, not Swift: the SystemExtensions and IOKit APIs are C and Objective-C, CMake
// builds Objective-C with the same compiler and flags as the rest of the tree (no Swift
// toolchain or module setup), and the command line and error tables stay in plain C
// (host_app_cli.c) that the Linux build tests.
//
// Command line: see host_app_usage() or docs/install.md. Without arguments (a double-click in
// Finder) it shows a small window with the same actions.
#import <AppKit/AppKit.h>
#import <Foundation/Foundation.h>
#import <IOKit/IOKitLib.h>
#import <IOKit/serial/IOSerialKeys.h>
#import <SystemExtensions/SystemExtensions.h>

#include <stdio.h>

#include "host_app_cli.h"

#ifndef USBSERIAL_BUNDLE_ID
#error "USBSERIAL_BUNDLE_ID (the dext's bundle identifier) must be defined by the build"
#endif
#ifndef USBSERIAL_VERSION
#define USBSERIAL_VERSION "unknown"
#endif

// host_app_cli.c names the codes by number; the SDK's enums must say the same. The enumerators
// carry availability attributes, which do not matter in a constant expression.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunguarded-availability-new"
_Static_assert(OSSystemExtensionErrorUnknown == 1, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorMissingEntitlement == 2, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorUnsupportedParentBundleLocation == 3, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorExtensionNotFound == 4, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorExtensionMissingIdentifier == 5, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorDuplicateExtensionIdentifer == 6, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorUnknownExtensionCategory == 7, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorCodeSignatureInvalid == 8, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorValidationFailed == 9, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorForbiddenBySystemPolicy == 10, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorRequestCanceled == 11, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorRequestSuperseded == 12, "SDK error codes moved");
_Static_assert(OSSystemExtensionErrorAuthorizationRequired == HOST_APP_LAST_ERROR_CODE,
               "SDK error codes moved");
_Static_assert(OSSystemExtensionRequestCompleted == 0, "SDK results moved");
_Static_assert(OSSystemExtensionRequestWillCompleteAfterReboot == 1, "SDK results moved");
#pragma clang diagnostic pop

static NSString* const kDextIdentifier = @USBSERIAL_BUNDLE_ID;

// Where the user approves a driver extension, by macOS version (docs/install.md).
static NSString* ApprovalPlace(void) {
  const NSInteger major = NSProcessInfo.processInfo.operatingSystemVersion.majorVersion;
  if (major >= 15) {
    return @"System Settings > General > Login Items & Extensions > Driver Extensions "
           @"(turn USBSerialBridge on)";
  }
  if (major >= 13) {
    return @"System Settings > Privacy & Security (click Allow under Security)";
  }
  return @"System Preferences > Security & Privacy > General (click Allow)";
}

static NSString* DescribeError(NSError* error) {
  if ([error.domain isEqualToString:OSSystemExtensionErrorDomain]) {
    const char* name = host_app_error_name((long)error.code);
    const char* hint = host_app_error_hint((long)error.code);
    if (name != NULL) {
      return [NSString stringWithFormat:@"%s (%ld): %s", name, (long)error.code, hint];
    }
    return [NSString stringWithFormat:@"OSSystemExtensionErrorDomain code %ld (not known to this "
                                      @"app): %@",
                                      (long)error.code, error.localizedDescription];
  }
  return [NSString stringWithFormat:@"%@ code %ld: %@", error.domain, (long)error.code,
                                    error.localizedDescription];
}

// One request to sysextd and its outcome. Delegate calls arrive on `queue`; the caller waits
// on `done`, which is signalled once, when the outcome is known.
@interface RequestRunner : NSObject <OSSystemExtensionRequestDelegate>
@property(nonatomic) BOOL waitForApproval;
@property(nonatomic) BOOL echo;  // print each line as it comes (command-line mode)
@property(nonatomic) BOOL approvalRequested;
@property(nonatomic) BOOL finished;
@property(nonatomic) int exitCode;
@property(nonatomic, strong) NSMutableArray<NSString*>* lines;
@property(nonatomic, strong) NSArray* foundProperties;
@property(nonatomic, strong) dispatch_queue_t queue;
@property(nonatomic, strong) dispatch_semaphore_t done;
@end

@implementation RequestRunner

- (instancetype)init {
  if ((self = [super init])) {
    _waitForApproval = YES;
    _exitCode = HOST_APP_EXIT_FAILED;
    _lines = [NSMutableArray array];
    _queue = dispatch_queue_create("org.usbserialbridge.app.requests", DISPATCH_QUEUE_SERIAL);
    _done = dispatch_semaphore_create(0);
  }
  return self;
}

- (void)say:(NSString*)line toError:(BOOL)toError {
  [self.lines addObject:line];
  if (self.echo) {
    fprintf(toError ? stderr : stdout, "%s\n", line.UTF8String);
    fflush(toError ? stderr : stdout);
  }
}

- (void)finishWith:(int)code {
  if (self.finished) {
    return;
  }
  self.finished = YES;
  self.exitCode = code;
  dispatch_semaphore_signal(self.done);
}

// Submits the request and waits for its outcome (or the timeout). Returns the exit code.
- (int)run:(OSSystemExtensionRequest*)request timeout:(double)timeoutSeconds {
  request.delegate = self;
  [[OSSystemExtensionManager sharedManager] submitRequest:request];
  const dispatch_time_t deadline =
      timeoutSeconds > 0
          ? dispatch_time(DISPATCH_TIME_NOW, (int64_t)(timeoutSeconds * NSEC_PER_SEC))
          : DISPATCH_TIME_FOREVER;
  if (dispatch_semaphore_wait(self.done, deadline) != 0) {
    __block int code = HOST_APP_EXIT_FAILED;
    dispatch_sync(self.queue, ^{
      if (self.finished) {
        code = self.exitCode;
        return;
      }
      self.finished = YES;
      if (self.approvalRequested) {
        [self say:[NSString stringWithFormat:@"still waiting for approval after %g s; approve "
                                             @"it in %@ and the request completes by itself",
                                             timeoutSeconds, ApprovalPlace()]
            toError:NO];
        self.exitCode = HOST_APP_EXIT_NEEDS_APPROVAL;
      } else {
        [self say:[NSString stringWithFormat:@"no answer from the system extension manager "
                                             @"within %g s",
                                             timeoutSeconds]
            toError:YES];
        self.exitCode = HOST_APP_EXIT_FAILED;
      }
      code = self.exitCode;
    });
    return code;
  }
  return self.exitCode;
}

- (OSSystemExtensionReplacementAction)request:(OSSystemExtensionRequest*)request
                  actionForReplacingExtension:(OSSystemExtensionProperties*)existing
                                withExtension:(OSSystemExtensionProperties*)replacement {
  (void)request;
  [self say:[NSString stringWithFormat:@"replacing the installed version %@ (%@) with %@ (%@)",
                                       existing.bundleShortVersion, existing.bundleVersion,
                                       replacement.bundleShortVersion, replacement.bundleVersion]
      toError:NO];
  return OSSystemExtensionReplacementActionReplace;
}

- (void)requestNeedsUserApproval:(OSSystemExtensionRequest*)request {
  (void)request;
  self.approvalRequested = YES;
  [self say:[NSString stringWithFormat:@"waiting for your approval: open %@", ApprovalPlace()]
      toError:NO];
  if (!self.waitForApproval) {
    [self finishWith:HOST_APP_EXIT_NEEDS_APPROVAL];
  }
}

- (void)request:(OSSystemExtensionRequest*)request
    didFinishWithResult:(OSSystemExtensionRequestResult)result {
  (void)request;
  const char* name = host_app_result_name((long)result);
  if (result == OSSystemExtensionRequestWillCompleteAfterReboot) {
    [self say:[NSString stringWithFormat:@"%s: restart the Mac to complete the request", name]
        toError:NO];
    [self finishWith:HOST_APP_EXIT_AFTER_REBOOT];
    return;
  }
  [self say:[NSString stringWithFormat:@"%s", name != NULL ? name : "completed"] toError:NO];
  [self finishWith:HOST_APP_EXIT_OK];
}

- (void)request:(OSSystemExtensionRequest*)request didFailWithError:(NSError*)error {
  (void)request;
  [self say:[@"request failed: " stringByAppendingString:DescribeError(error)] toError:YES];
  [self finishWith:HOST_APP_EXIT_FAILED];
}

// Only properties requests (macOS 12 and later) call this.
- (void)request:(OSSystemExtensionRequest*)request
    foundProperties:(NSArray<OSSystemExtensionProperties*>*)properties {
  (void)request;
  self.foundProperties = properties;
  [self finishWith:HOST_APP_EXIT_OK];
}

@end

// ---------------------------------------------------------------------------------------------
// Status: the extension's state and the ports it publishes.

static id RegistryProperty(io_registry_entry_t entry, NSString* key) {
  return CFBridgingRelease(
      IORegistryEntryCreateCFProperty(entry, (__bridge CFStringRef)key, kCFAllocatorDefault, 0));
}

static BOOL IsOurService(io_registry_entry_t entry) {
  for (NSString* key in @[ @"IOUserServerName", @"CFBundleIdentifier" ]) {
    id value = RegistryProperty(entry, key);
    if ([value isKindOfClass:[NSString class]] && [value isEqualToString:kDextIdentifier]) {
      return YES;
    }
  }
  return NO;
}

// Every tty whose IOSerialBSDClient hangs below one of our services, with that service's
// statistics. A dext's SetProperties may land at the top level of the service's properties or
// inside IOUserServiceProperties (docs/logging-and-statistics.md); both places are read.
static NSArray<NSDictionary*>* OurPorts(void) {
  NSMutableArray<NSDictionary*>* ports = [NSMutableArray array];
  io_iterator_t iterator = IO_OBJECT_NULL;
  // MACH_PORT_NULL selects the default main port on every macOS version.
  if (IOServiceGetMatchingServices(MACH_PORT_NULL, IOServiceMatching(kIOSerialBSDServiceValue),
                                   &iterator) != KERN_SUCCESS) {
    return ports;
  }
  io_object_t client;
  while ((client = IOIteratorNext(iterator)) != IO_OBJECT_NULL) {
    io_registry_entry_t entry = client;
    IOObjectRetain(entry);
    for (int level = 0; level < 4; ++level) {
      io_registry_entry_t parent = IO_OBJECT_NULL;
      const kern_return_t found = IORegistryEntryGetParentEntry(entry, kIOServicePlane, &parent);
      IOObjectRelease(entry);
      entry = parent;
      if (found != KERN_SUCCESS) {
        entry = IO_OBJECT_NULL;
        break;
      }
      if (IsOurService(entry)) {
        break;
      }
    }
    if (entry != IO_OBJECT_NULL && IsOurService(entry)) {
      NSMutableDictionary* port = [NSMutableDictionary dictionary];
      port[@"callout"] = RegistryProperty(client, @kIOCalloutDeviceKey) ?: [NSNull null];
      port[@"dialin"] = RegistryProperty(client, @kIODialinDeviceKey) ?: [NSNull null];
      port[@"base_name"] = RegistryProperty(client, @kIOTTYBaseNameKey) ?: [NSNull null];
      port[@"suffix"] = RegistryProperty(client, @kIOTTYSuffixKey) ?: [NSNull null];
      port[@"chip"] = RegistryProperty(entry, @"USBSerialBridgeChip") ?: [NSNull null];
      id statistics = RegistryProperty(entry, @"Statistics");
      NSString* where = @"Statistics";
      if (![statistics isKindOfClass:[NSDictionary class]]) {
        id user = RegistryProperty(entry, @"IOUserServiceProperties");
        statistics = [user isKindOfClass:[NSDictionary class]] ? user[@"Statistics"] : nil;
        where = @"IOUserServiceProperties.Statistics";
      }
      port[@"statistics"] = statistics ?: [NSNull null];
      port[@"statistics_location"] = statistics != nil ? where : [NSNull null];
      [ports addObject:port];
    }
    if (entry != IO_OBJECT_NULL) {
      IOObjectRelease(entry);
    }
    IOObjectRelease(client);
  }
  IOObjectRelease(iterator);
  return ports;
}

static NSURL* EmbeddedDextURL(void) {
  NSString* name = [kDextIdentifier stringByAppendingPathExtension:@"dext"];
  return [[NSBundle.mainBundle.bundleURL
      URLByAppendingPathComponent:@"Contents/Library/SystemExtensions"]
      URLByAppendingPathComponent:name];
}

// Fills `report` and returns the --status exit code.
static int CollectStatus(NSMutableDictionary* report, NSMutableArray<NSString*>* lines) {
  NSURL* dext = EmbeddedDextURL();
  NSDictionary* dextInfo =
      [NSDictionary dictionaryWithContentsOfURL:[dext URLByAppendingPathComponent:@"Info.plist"]];
  report[@"dext_identifier"] = kDextIdentifier;
  report[@"embedded_dext"] = dextInfo != nil ? dext.path : [NSNull null];
  report[@"embedded_version"] = dextInfo[@"CFBundleShortVersionString"] ?: [NSNull null];
  [lines addObject:dextInfo != nil
                       ? [NSString stringWithFormat:@"embedded: %@ version %@", dext.path,
                                                    dextInfo[@"CFBundleShortVersionString"]]
                       : [NSString stringWithFormat:@"embedded: none (no %@)", dext.path]];

  int code = HOST_APP_EXIT_NOT_INSTALLED;
  if (@available(macOS 12.0, *)) {
    RequestRunner* runner = [RequestRunner new];
    OSSystemExtensionRequest* request =
        [OSSystemExtensionRequest propertiesRequestForExtension:kDextIdentifier queue:runner.queue];
    const int asked = [runner run:request timeout:30];
    NSMutableArray* installed = [NSMutableArray array];
    for (OSSystemExtensionProperties* p in runner.foundProperties) {
      [installed addObject:@{
        @"version" : p.bundleShortVersion ?: @"",
        @"build" : p.bundleVersion ?: @"",
        @"enabled" : @(p.isEnabled),
        @"awaiting_user_approval" : @(p.isAwaitingUserApproval),
        @"uninstalling" : @(p.isUninstalling),
        @"path" : p.URL.path ?: @"",
      }];
      [lines
          addObject:[NSString
                        stringWithFormat:@"installed: version %@ (%@)%@%@%@", p.bundleShortVersion,
                                         p.bundleVersion,
                                         p.isEnabled ? @", enabled" : @", not enabled",
                                         p.isAwaitingUserApproval ? @", waiting for approval" : @"",
                                         p.isUninstalling ? @", being removed" : @""]];
      if (p.isEnabled && !p.isUninstalling) {
        code = HOST_APP_EXIT_OK;
      }
    }
    if (asked != HOST_APP_EXIT_OK) {
      [lines addObjectsFromArray:runner.lines];
    } else if (installed.count == 0) {
      [lines addObject:@"installed: no (activate it with --activate)"];
    }
    report[@"installed"] = installed;
  } else {
    report[@"installed"] = [NSNull null];
    [lines addObject:@"installed: this macOS cannot report it to an app; run "
                     @"`systemextensionsctl list`"];
    code = HOST_APP_EXIT_OK;
  }

  NSArray<NSDictionary*>* ports = OurPorts();
  report[@"ports"] = ports;
  if (ports.count == 0) {
    [lines addObject:@"ports: none (is an adapter plugged in, and the extension enabled?)"];
  }
  for (NSDictionary* port in ports) {
    [lines addObject:[NSString stringWithFormat:@"port: %@ (%@)", port[@"callout"], port[@"chip"]]];
    NSDictionary* statistics = port[@"statistics"];
    if ([statistics isKindOfClass:[NSDictionary class]]) {
      for (NSString* key in [statistics.allKeys sortedArrayUsingSelector:@selector(compare:)]) {
        [lines addObject:[NSString stringWithFormat:@"  %@ = %@", key, statistics[key]]];
      }
      [lines
          addObject:[NSString stringWithFormat:@"  (read from %@)", port[@"statistics_location"]]];
    }
  }
  return code;
}

static int RunRequest(enum host_app_command command, const struct host_app_options* options,
                      BOOL echo, NSMutableArray<NSString*>* lines) {
  RequestRunner* runner = [RequestRunner new];
  runner.echo = echo;
  runner.waitForApproval = options->wait_for_approval;
  OSSystemExtensionRequest* request =
      command == HOST_APP_ACTIVATE
          ? [OSSystemExtensionRequest activationRequestForExtension:kDextIdentifier
                                                              queue:runner.queue]
          : [OSSystemExtensionRequest deactivationRequestForExtension:kDextIdentifier
                                                                queue:runner.queue];
  [runner say:[NSString
                  stringWithFormat:@"%@ %@ ...",
                                   command == HOST_APP_ACTIVATE ? @"activating" : @"deactivating",
                                   kDextIdentifier]
      toError:NO];
  const int code = [runner run:request timeout:options->timeout_s];
  [lines addObjectsFromArray:runner.lines];
  return code;
}

// The window: the status, the last request's outcome, and three buttons.
static int RunWindow(void) {
  [NSApplication sharedApplication];
  [NSApp setActivationPolicy:NSApplicationActivationPolicyRegular];
  // Deprecated from macOS 14 on, where -activate replaces it; the app runs from 10.15 on.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
  [NSApp activateIgnoringOtherApps:YES];
#pragma clang diagnostic pop
  NSString* outcome = @"";
  for (;;) {
    NSMutableArray<NSString*>* lines = [NSMutableArray array];
    CollectStatus([NSMutableDictionary dictionary], lines);
    NSAlert* alert = [NSAlert new];
    alert.messageText = @"USBSerialBridge driver";
    alert.informativeText =
        [[lines componentsJoinedByString:@"\n"] stringByAppendingString:outcome];
    [alert addButtonWithTitle:@"Activate"];
    [alert addButtonWithTitle:@"Deactivate"];
    [alert addButtonWithTitle:@"Quit"];
    const NSModalResponse choice = [alert runModal];
    if (choice != NSAlertFirstButtonReturn && choice != NSAlertSecondButtonReturn) {
      return HOST_APP_EXIT_OK;
    }
    struct host_app_options options = {0};
    options.wait_for_approval = false;  // approval happens in System Settings, not here
    options.timeout_s = 60;
    NSMutableArray<NSString*>* requestLines = [NSMutableArray array];
    RunRequest(choice == NSAlertFirstButtonReturn ? HOST_APP_ACTIVATE : HOST_APP_DEACTIVATE,
               &options, NO, requestLines);
    outcome = [@"\n\n" stringByAppendingString:[requestLines componentsJoinedByString:@"\n"]];
  }
}

int main(int argc, const char* argv[]) {
  @autoreleasepool {
    struct host_app_options options;
    if (!host_app_parse(argc, argv, &options)) {
      fprintf(stderr, "USBSerialBridge: %s%s%s\n%s", options.error,
              options.argument != NULL ? ": " : "",
              options.argument != NULL ? options.argument : "", host_app_usage());
      return HOST_APP_EXIT_USAGE;
    }
    switch (options.command) {
      case HOST_APP_HELP:
        fputs(host_app_usage(), stdout);
        return HOST_APP_EXIT_OK;
      case HOST_APP_VERSION:
        printf("USBSerialBridge host app %s (driver extension %s)\n", USBSERIAL_VERSION,
               USBSERIAL_BUNDLE_ID);
        return HOST_APP_EXIT_OK;
      case HOST_APP_ACTIVATE:
      case HOST_APP_DEACTIVATE:
        return RunRequest(options.command, &options, YES, [NSMutableArray array]);
      case HOST_APP_STATUS: {
        NSMutableDictionary* report = [NSMutableDictionary dictionary];
        NSMutableArray<NSString*>* lines = [NSMutableArray array];
        const int code = CollectStatus(report, lines);
        if (options.json) {
          NSError* error = nil;
          NSData* json = [NSJSONSerialization
              dataWithJSONObject:report
                         options:NSJSONWritingPrettyPrinted | NSJSONWritingSortedKeys
                           error:&error];
          if (json == nil) {
            fprintf(stderr, "USBSerialBridge: %s\n", error.localizedDescription.UTF8String);
            return HOST_APP_EXIT_FAILED;
          }
          fwrite(json.bytes, 1, json.length, stdout);
          fputc('\n', stdout);
        } else {
          for (NSString* line in lines) {
            printf("%s\n", line.UTF8String);
          }
        }
        return code;
      }
      case HOST_APP_GUI:
        return RunWindow();
    }
    return HOST_APP_EXIT_USAGE;
  }
}
