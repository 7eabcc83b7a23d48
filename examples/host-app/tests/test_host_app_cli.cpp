// The host app's portable part: its command line and the names it prints for the
// SystemExtensions framework's error codes and results. The numbers are the SDK's
// (OSSystemExtensionErrorCode 1..13 in declaration order; main.m asserts them against the SDK at
// compile time on a Mac).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host_app_cli.h"

namespace {

struct Parsed {
  bool ok;
  host_app_options options;
};

Parsed parse(std::vector<const char*> args) {
  args.insert(args.begin(), "USBSerialBridge");
  Parsed parsed{};
  parsed.ok = host_app_parse(static_cast<int>(args.size()), args.data(), &parsed.options);
  return parsed;
}

TEST(HostAppErrors, EveryCodeHasItsSdkName) {
  const std::vector<std::string> expected = {
      "OSSystemExtensionErrorUnknown",
      "OSSystemExtensionErrorMissingEntitlement",
      "OSSystemExtensionErrorUnsupportedParentBundleLocation",
      "OSSystemExtensionErrorExtensionNotFound",
      "OSSystemExtensionErrorExtensionMissingIdentifier",
      // The SDK's own spelling.
      "OSSystemExtensionErrorDuplicateExtensionIdentifer",
      "OSSystemExtensionErrorUnknownExtensionCategory",
      "OSSystemExtensionErrorCodeSignatureInvalid",
      "OSSystemExtensionErrorValidationFailed",
      "OSSystemExtensionErrorForbiddenBySystemPolicy",
      "OSSystemExtensionErrorRequestCanceled",
      "OSSystemExtensionErrorRequestSuperseded",
      "OSSystemExtensionErrorAuthorizationRequired",
  };
  ASSERT_EQ(expected.size(), static_cast<size_t>(HOST_APP_LAST_ERROR_CODE));
  for (size_t i = 0; i < expected.size(); ++i) {
    const long code = static_cast<long>(i + 1);
    ASSERT_NE(host_app_error_name(code), nullptr) << code;
    EXPECT_EQ(host_app_error_name(code), expected[i]) << code;
    ASSERT_NE(host_app_error_hint(code), nullptr) << code;
    EXPECT_GT(std::string(host_app_error_hint(code)).size(), 10u) << code;
  }
}

TEST(HostAppErrors, CodesOutsideTheEnumHaveNoName) {
  for (long code : {-1L, 0L, 14L, 1000L}) {
    EXPECT_EQ(host_app_error_name(code), nullptr) << code;
    EXPECT_EQ(host_app_error_hint(code), nullptr) << code;
  }
}

TEST(HostAppErrors, HintsPointAtTheFix) {
  EXPECT_NE(std::string(host_app_error_hint(3)).find("/Applications"), std::string::npos);
  EXPECT_NE(std::string(host_app_error_hint(2)).find("system-extension.install"),
            std::string::npos);
  EXPECT_NE(std::string(host_app_error_hint(4)).find("SystemExtensions"), std::string::npos);
}

TEST(HostAppResults, NamesOfBothResults) {
  EXPECT_STREQ(host_app_result_name(0), "OSSystemExtensionRequestCompleted");
  EXPECT_STREQ(host_app_result_name(1), "OSSystemExtensionRequestWillCompleteAfterReboot");
  EXPECT_EQ(host_app_result_name(2), nullptr);
  EXPECT_EQ(host_app_result_name(-1), nullptr);
}

TEST(HostAppCli, NoArgumentsIsTheWindow) {
  const Parsed p = parse({});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.options.command, HOST_APP_GUI);
}

TEST(HostAppCli, FinderProcessSerialNumberIsIgnored) {
  const Parsed p = parse({"-psn_0_12345"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.options.command, HOST_APP_GUI);
}

TEST(HostAppCli, Commands) {
  struct Case {
    const char* arg;
    host_app_command command;
  };
  for (const Case& c :
       {Case{"--activate", HOST_APP_ACTIVATE}, Case{"--deactivate", HOST_APP_DEACTIVATE},
        Case{"--status", HOST_APP_STATUS}, Case{"--help", HOST_APP_HELP}, Case{"-h", HOST_APP_HELP},
        Case{"--version", HOST_APP_VERSION}}) {
    const Parsed p = parse({c.arg});
    ASSERT_TRUE(p.ok) << c.arg;
    EXPECT_EQ(p.options.command, c.command) << c.arg;
    EXPECT_TRUE(p.options.wait_for_approval) << c.arg;
    EXPECT_EQ(p.options.timeout_s, 0.0) << c.arg;
  }
}

TEST(HostAppCli, RepeatingACommandIsFineTwoCommandsAreNot) {
  EXPECT_TRUE(parse({"--status", "--status"}).ok);
  const Parsed p = parse({"--activate", "--deactivate"});
  ASSERT_FALSE(p.ok);
  EXPECT_STREQ(p.options.argument, "--deactivate");
}

TEST(HostAppCli, NoWaitAndTimeout) {
  Parsed p = parse({"--activate", "--no-wait"});
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.options.wait_for_approval);
  p = parse({"--timeout", "300", "--deactivate"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.options.command, HOST_APP_DEACTIVATE);
  EXPECT_EQ(p.options.timeout_s, 300.0);
  p = parse({"--activate", "--timeout", "0.5"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.options.timeout_s, 0.5);
}

TEST(HostAppCli, BadTimeoutsAreRefused) {
  for (const char* value : {"0", "-1", "abc", "10s", "", "86401", "nan"}) {
    const Parsed p = parse({"--activate", "--timeout", value});
    EXPECT_FALSE(p.ok) << value;
    EXPECT_STREQ(p.options.argument, value);
  }
  const Parsed missing = parse({"--activate", "--timeout"});
  EXPECT_FALSE(missing.ok);
}

TEST(HostAppCli, OptionsThatNeedTheirCommand) {
  EXPECT_FALSE(parse({"--no-wait"}).ok);
  EXPECT_FALSE(parse({"--status", "--timeout", "5"}).ok);
  EXPECT_FALSE(parse({"--activate", "--json"}).ok);
  EXPECT_FALSE(parse({"--activate", "--no-wait", "--timeout", "5"}).ok);
  const Parsed p = parse({"--status", "--json"});
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.options.json);
}

TEST(HostAppCli, UnknownArgumentIsNamed) {
  const Parsed p = parse({"--activate", "--frobnicate"});
  ASSERT_FALSE(p.ok);
  EXPECT_STREQ(p.options.argument, "--frobnicate");
  EXPECT_NE(p.options.error, nullptr);
}

TEST(HostAppCli, UsageListsEveryOption) {
  const std::string usage = host_app_usage();
  for (const char* option : {"--activate", "--deactivate", "--status", "--no-wait", "--timeout",
                             "--json", "--help", "--version"}) {
    EXPECT_NE(usage.find(option), std::string::npos) << option;
  }
}

}  // namespace
