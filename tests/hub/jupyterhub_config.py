"""JupyterHub's configuration for the course (tests/hub starts the hub with it; README's recipe).

The values of one deployment (ports, folders, user names) come from the JSON file named by
$RNN_HUB_CONFIG, which tests/hub/hub_harness.py writes. What it sets up:
- configurable-http-proxy (npm) in front, on 127.0.0.1;
- PAM log-in of Unix accounts (JupyterHub's default authenticator): the instructor and the
  students are hub users, the instructor an admin;
- each user's single-user server (JupyterLab with nbgrader's extensions) spawned as that Unix
  user by LocalProcessSpawner, with HOME its own home (mode 0700);
- nbgrader's JupyterHub groups: formgrade-<course> for the instructor, nbgrader-<course> for the
  students; every server reads the course's nbgrader_config.py (course id, the shared exchange)
  from JUPYTER_CONFIG_PATH.
"""

import json
import os

deployment = json.loads(open(os.environ["RNN_HUB_CONFIG"]).read())  # noqa: SIM115
state = deployment["state"]
c = get_config()  # noqa: F821 - provided by jupyterhub

c.JupyterHub.ip = deployment["ip"]
c.JupyterHub.port = deployment["port"]
# the hub's API and the proxy's stay on the loopback: only the proxy's public port is served
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = deployment["hub_port"]
c.ConfigurableHTTPProxy.command = [deployment["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{deployment['api_port']}"
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{os.path.join(state, 'jupyterhub.sqlite')}"
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {deployment["instructor"], *deployment["students"]}
c.Authenticator.admin_users = {deployment["instructor"]}

course = deployment["course_id"]
c.JupyterHub.load_groups = {
    f"formgrade-{course}": {"users": [deployment["instructor"]]},
    f"nbgrader-{course}": {"users": deployment["students"]},
}

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [deployment["singleuser"]]
c.Spawner.args = deployment.get("singleuser_args", [])
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.Spawner.environment = {
    "PATH": deployment["path"],
    "JUPYTER_CONFIG_PATH": deployment["jupyter_config_path"],
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}
