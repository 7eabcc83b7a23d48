"""The .iig language rules hostkit_iig.py enforces, each shown by a declaration
that breaks it (and one that keeps it)."""
import os
import subprocess
import sys
import textwrap

import pytest

GENERATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostkit_iig.py")


def generate(tmp_path, body, includes="#include <USBSerialDriverKit/IOUserUSBSerial.iig>"):
    source = tmp_path / "Driver.iig"
    source.write_text(f"{includes}\n\nclass Driver : public IOUserUSBSerial\n{{\npublic:\n"
                      + textwrap.indent(textwrap.dedent(body), "    ") + "};\n")
    header, impl = tmp_path / "Driver.h", tmp_path / "Driver.iig.cpp"
    result = subprocess.run([sys.executable, GENERATOR, "--def", str(source), "--header",
                             str(header), "--impl", str(impl)], capture_output=True, text=True)
    return result, header.read_text() if result.returncode == 0 else ""


def refused(tmp_path, body, message):
    result, _ = generate(tmp_path, body)
    assert result.returncode != 0, "the generator accepted what iig refuses"
    assert message in result.stderr, result.stderr
    assert "Driver.iig:" in result.stderr  # the file and line of the offence


def test_a_driver_as_the_sdk_allows_it_generates(tmp_path):
    result, header = generate(tmp_path, """
        virtual bool init() override;
        virtual kern_return_t Start(IOService * provider) override;
        virtual kern_return_t HwActivate() override;
        virtual void handleRxPacket(uint8_t *&packet, uint32_t &size) override;
    """)
    assert result.returncode == 0, result.stderr
    # Messages: a public front door and a protected _Impl; LOCALONLY methods as written.
    public, protected = header.split(" protected:")
    assert "kern_return_t Start(IOService * provider, OSDispatchMethod supermethod" in public
    assert "Start_Impl(IOService * provider) override;" not in public
    assert "kern_return_t Start_Impl(IOService * provider) override;" in protected
    assert "virtual void handleRxPacket(uint8_t *&packet, uint32_t &size) override;" in public
    assert "handleRxPacket_Impl" not in header  # LOCALONLY in IOUserUSBSerial: no message
    assert "HOSTKIT_METACLASS(Driver)" in header
    assert "typedef IOUserUSBSerial super;" in header
    assert "HOSTKIT_METACLASS_DEFINE(Driver, IOUserUSBSerial);" in (tmp_path /
                                                                   "Driver.iig.cpp").read_text()


def test_a_data_member_is_refused(tmp_path):
    refused(tmp_path, "uint32_t baud = 9600;\n", "data member in a .iig class")


def test_a_reference_parameter_on_a_message_is_refused(tmp_path):
    refused(tmp_path, "virtual kern_return_t Configure(uint32_t & baud);\n",
            "message Configure takes a reference parameter")


def test_a_reference_parameter_on_a_localonly_method_is_allowed(tmp_path):
    result, header = generate(tmp_path, "virtual void Configure(uint32_t & baud) LOCALONLY;\n")
    assert result.returncode == 0, result.stderr
    assert "Configure_Impl" not in header


def test_overriding_a_final_method_is_refused(tmp_path):
    refused(tmp_path, "virtual void TxDataAvailable() override;\n",
            "TxDataAvailable is final in a base class")


def test_localonly_cannot_turn_a_message_into_a_plain_call(tmp_path):
    refused(tmp_path, "virtual kern_return_t HwActivate() LOCALONLY override;\n",
            "HwActivate is a message in the base class")


def test_an_override_of_nothing_is_refused(tmp_path):
    refused(tmp_path, "virtual kern_return_t HwFlushEverything() override;\n",
            "no base class of Driver declares it")


def test_an_override_with_other_parameter_types_is_refused(tmp_path):
    refused(tmp_path, "virtual kern_return_t HwProgramBaudRate(uint64_t baudRate) override;\n",
            "does not match the base class's")


def test_an_unknown_annotation_is_refused(tmp_path):
    refused(tmp_path, "virtual kern_return_t HwActivate() LOCALL override;\n",
            "unknown annotation LOCALL")


def test_a_base_the_sdk_transcription_lacks_is_refused(tmp_path):
    result, _ = generate(tmp_path, "virtual bool init() override;\n",
                         includes="#include <PCIDriverKit/IOPCIDevice.iig>")
    assert result.returncode != 0
    assert "hostkit has no SDK declaration for it" in result.stderr


PIPE = "#include <USBSerialDriverKit/IOUserUSBSerial.iig>\n#include <USBDriverKit/IOUSBHostPipe.iig>"
READ_COMPLETE = ("virtual void ReadComplete(OSAction * action, IOReturn status, "
                 "uint32_t actualByteCount, uint64_t completionTimestamp) "
                 "TYPE(IOUSBHostPipe::CompleteAsyncIO);\n")


def test_a_type_method_gets_a_create_action_and_is_a_message(tmp_path):
    result, header = generate(tmp_path, READ_COMPLETE, includes=PIPE)
    assert result.returncode == 0, result.stderr
    public, protected = header.split(" protected:")
    assert "kern_return_t CreateActionReadComplete(size_t referenceSize, OSAction** action);" \
        in public
    assert "void ReadComplete(OSAction * action, IOReturn status, uint32_t actualByteCount, " \
        "uint64_t completionTimestamp, OSDispatchMethod supermethod = nullptr)" in public
    assert "virtual void ReadComplete_Impl(OSAction * action, IOReturn status" in protected
    impl = (tmp_path / "Driver.iig.cpp").read_text()
    # The action is of the named TYPE, targets the driver, and unpacks exactly
    # the completion's parameters into the method's front door (on the queue).
    assert '"IOUSBHostPipe::CompleteAsyncIO", this, referenceSize' in impl
    assert "std::tuple<IOReturn, uint32_t, uint64_t>" in impl
    assert "->ReadComplete(self, std::get<0>(args), std::get<1>(args), std::get<2>(args));" in impl


def test_a_timer_handler_type_is_understood(tmp_path):
    result, header = generate(
        tmp_path, "virtual void Tick(OSAction * action, uint64_t time) "
                  "TYPE(IOTimerDispatchSource::TimerOccurred);\n",
        includes="#include <USBSerialDriverKit/IOUserUSBSerial.iig>\n"
                 "#include <DriverKit/IOTimerDispatchSource.iig>")
    assert result.returncode == 0, result.stderr
    assert "kern_return_t CreateActionTick(size_t referenceSize, OSAction** action);" in header
    assert "std::tuple<uint64_t>" in (tmp_path / "Driver.iig.cpp").read_text()


def test_a_type_with_other_parameters_is_refused(tmp_path):
    result, _ = generate(
        tmp_path, "virtual void ReadComplete(OSAction * action, IOReturn status, "
                  "uint32_t actualByteCount) TYPE(IOUSBHostPipe::CompleteAsyncIO);\n",
        includes=PIPE)
    assert result.returncode != 0
    assert "does not match IOUSBHostPipe::" in result.stderr
    assert "Driver.iig:" in result.stderr


def test_a_type_whose_first_parameter_is_not_the_action_is_refused(tmp_path):
    result, _ = generate(
        tmp_path, "virtual void Tick(uint64_t time) TYPE(IOTimerDispatchSource::TimerOccurred);\n",
        includes="#include <USBSerialDriverKit/IOUserUSBSerial.iig>\n"
                 "#include <DriverKit/IOTimerDispatchSource.iig>")
    assert result.returncode != 0
    assert "first parameter is not OSAction *" in result.stderr


def test_a_type_of_a_class_not_included_is_refused(tmp_path):
    result, _ = generate(tmp_path, READ_COMPLETE)  # IOUSBHostPipe.iig not included
    assert result.returncode != 0
    assert "IOUSBHostPipe is not declared by any included .iig" in result.stderr


def test_a_type_naming_a_method_the_class_lacks_is_refused(tmp_path):
    result, _ = generate(
        tmp_path, "virtual void Done(OSAction * action, IOReturn status) "
                  "TYPE(IOUSBHostPipe::CompleteAsyncDeviceRequest);\n", includes=PIPE)
    assert result.returncode != 0
    assert "IOUSBHostPipe declares no CompleteAsyncDeviceRequest" in result.stderr


def test_a_type_method_cannot_be_localonly(tmp_path):
    result, _ = generate(
        tmp_path, READ_COMPLETE.replace("TYPE(", "LOCALONLY TYPE("), includes=PIPE)
    assert result.returncode != 0
    assert "a TYPE() method is a new message" in result.stderr


@pytest.mark.parametrize("path", ["SerialDext/org_usbserialbridge_SerialDriver.iig",
                                  "SerialDext/org_usbserialbridge_SerialPortDriver.iig",
                                  "test-harness/hostkit/tests/HostkitTestDriver.iig"])
def test_the_project_drivers_keep_the_rules(tmp_path, path):
    root = os.path.join(os.path.dirname(GENERATOR), "..", "..", "..")
    result = subprocess.run([sys.executable, GENERATOR, "--def", os.path.join(root, path),
                             "--header", str(tmp_path / "x.h"), "--impl", str(tmp_path / "x.cpp")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
