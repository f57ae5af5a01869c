// Package orphan starts the servers tests run (PostgreSQL, NATS) so that
// they never outlive the test binary, even when it is killed.
package orphan

import (
	"os/exec"
	"runtime"
	"syscall"
)

// Start starts cmd with sig as its parent-death signal and returns a
// channel that receives cmd.Wait's result. The parent-death signal
// belongs to the thread that started the child, so that thread stays
// locked (and alive) until the child exits.
func Start(cmd *exec.Cmd, sig syscall.Signal) (exited chan error, err error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = sig
	started := make(chan error, 1)
	exited = make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}
