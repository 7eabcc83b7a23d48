// The bus: one thread, marshalled calls, timers on a manual clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "sim/bus.hpp"

namespace {

using namespace std::chrono_literals;

TEST(Bus, CallRunsOnTheBusThreadAndReturnsTheValue) {
  sim::Bus bus(sim::ClockMode::manual);
  EXPECT_FALSE(bus.on_bus_thread());
  const auto id = bus.call([&] {
    EXPECT_TRUE(bus.on_bus_thread());
    return std::this_thread::get_id();
  });
  EXPECT_NE(id, std::this_thread::get_id());
  // A nested call on the bus thread runs inline instead of deadlocking.
  EXPECT_EQ(bus.call([&] { return bus.call([] { return 42; }); }), 42);
}

TEST(Bus, ManualTimersFireInTimeOrderAtTheirTimes) {
  sim::Bus bus(sim::ClockMode::manual);
  std::vector<std::pair<int, int64_t>> fired;
  bus.call([&] {
    bus.schedule_at(sim::SimTime(3ms), [&] { fired.push_back({3, bus.now().count()}); });
    bus.schedule_at(sim::SimTime(1ms), [&] {
      fired.push_back({1, bus.now().count()});
      // A timer scheduled from a timer, still inside the same advance().
      bus.schedule_at(bus.now() + 1ms, [&] { fired.push_back({2, bus.now().count()}); });
    });
    bus.schedule_at(sim::SimTime(10ms), [&] { fired.push_back({10, bus.now().count()}); });
  });
  bus.advance(5ms);
  EXPECT_EQ(bus.now(), sim::SimTime(5ms));
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[0], std::make_pair(1, int64_t{1'000'000}));
  EXPECT_EQ(fired[1], std::make_pair(2, int64_t{2'000'000}));
  EXPECT_EQ(fired[2], std::make_pair(3, int64_t{3'000'000}));
  EXPECT_EQ(bus.next_timer(), sim::SimTime(10ms));
  bus.advance(5ms);
  ASSERT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired[3].first, 10);
}

TEST(Bus, CancelledTimerNeverFires) {
  sim::Bus bus(sim::ClockMode::manual);
  bool fired = false;
  sim::Bus::TimerId id =
      bus.call([&] { return bus.schedule_at(sim::SimTime(1ms), [&] { fired = true; }); });
  bus.call([&] { bus.cancel(id); });
  EXPECT_EQ(id, 0u);
  bus.advance(2ms);
  EXPECT_FALSE(fired);
}

TEST(Bus, TaskCoalescesWakes) {
  sim::Bus bus(sim::ClockMode::manual);
  int runs = 0;
  std::unique_ptr<sim::Bus::Task> task;
  bus.call([&] {
    task = std::make_unique<sim::Bus::Task>(bus, [&] { ++runs; });
    task->wake();
    task->wake();
    task->wake();
  });
  bus.run_until_idle();
  EXPECT_EQ(runs, 1);
  bus.call([&] {
    task->wake();
    task.reset();  // destroyed while queued: never runs
  });
  bus.run_until_idle();
  EXPECT_EQ(runs, 1);
}

TEST(Bus, PostedWorkRunsInOrder) {
  sim::Bus bus(sim::ClockMode::manual);
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) {
    bus.post([&order, i] { order.push_back(i); });
  }
  bus.run_until_idle();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(order[static_cast<size_t>(i)], i);
  }
}

TEST(Bus, AdvanceNeedsTheManualClock) {
  sim::Bus bus(sim::ClockMode::real);
  EXPECT_THROW(bus.advance(1ms), std::logic_error);
}

}  // namespace
