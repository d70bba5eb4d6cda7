// The installation's health card on the home page (GET /api/v1/system/health, issue #20).
export default {
  sysHealth: {
    card: 'System', backup: 'Nightly backup', ok: 'OK', stale: 'no good backup for over 36 hours', failed: 'the last backup failed',
    never: 'no backup yet', last: 'last good', disk: 'Disk free', schema: 'Database schema', behind: 'upgrade pending',
    hint: 'Ask your IT helper to run: sudo -u nuanxin nuanxin doctor',
  },
}
