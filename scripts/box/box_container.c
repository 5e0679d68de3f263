/*
 * box_container: a small SPANK plugin that runs Slurm tasks "in a container" the way pyxis does,
 * for the cluster in a box (scripts/local-cluster.sh). Not pyxis, not enroot: it accepts pyxis's
 * srun options and gives each task
 *   - the image's root filesystem (a debootstrap tree) under a throw-away writable layer (overlay
 *     on tmpfs), in its own mount namespace: the host's /, $HOME, /tmp and checkout are gone;
 *   - only the declared `--container-mounts` (src:dst[:ro]) plus /proc, /sys, /dev;
 *   - a network namespace holding only loopback (compute nodes without internet);
 *   - `--container-workdir` as its working directory, an /etc/passwd entry for the job's user,
 *     the root folder owned by that user (enroot unpacks images as the user: `/` is writable);
 *   - named containers as pyxis has them: `--container-name=N` names the task's container in the
 *     job; a later step of the job naming N while that container runs joins it (its root, mounts
 *     and network namespace), with or without an image: NeMo-Run's Ray template starts the head
 *     that way and then runs `ray status` and the command in it (CONTAINERS/<job id>/<N> holds
 *     the running task's pid and start time).
 * Images are looked up by prefix in the map file given as `images=FILE` in plugstack.conf
 * (lines `PREFIX ROOTFS`); an unknown image fails the task like a failed `enroot import`.
 * Accepted and ignored (no effect in the box): --container-env,
 * --container-save, --container-remap-root/--no-container-remap-root, --container-writable,
 * --container-readonly, --container-mount-home/--no-container-mount-home (home is never mounted),
 * --container-entrypoint/--no-container-entrypoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <slurm/spank.h>

SPANK_PLUGIN(box_container, 1);

#define SCRATCH "/run/nemotron-box-task"
#define CONTAINERS "/run/nemotron-box-containers"

static char *opt_image;
static char *opt_name;
static int in_container;
static char *opt_mounts;
static char *opt_workdir;
static char images_map[4096] = "/etc/nemotron-box/images";

static int set_string(char **slot, const char *val)
{
    free(*slot);
    *slot = val ? strdup(val) : NULL;
    return 0;
}

static int cb_image(int v, const char *arg, int remote) { (void)v; (void)remote; return set_string(&opt_image, arg); }
static int cb_mounts(int v, const char *arg, int remote) { (void)v; (void)remote; return set_string(&opt_mounts, arg); }
static int cb_workdir(int v, const char *arg, int remote) { (void)v; (void)remote; return set_string(&opt_workdir, arg); }
static int cb_name(int v, const char *arg, int remote) { (void)v; (void)remote; return set_string(&opt_name, arg); }
static int cb_ignore(int v, const char *arg, int remote) { (void)v; (void)arg; (void)remote; return 0; }

struct spank_option spank_options[] = {
    {"container-image", "[USER@][REGISTRY#]IMAGE[:TAG]", "[box] image to run the task in", 1, 0, cb_image},
    {"container-mounts", "SRC:DST[:ro],...", "[box] bind mounts into the container", 1, 0, cb_mounts},
    {"container-workdir", "PATH", "[box] working directory inside the container", 1, 0, cb_workdir},
    {"container-name", "NAME", "[box] name the container; a later step naming it joins it", 1, 0, cb_name},
    {"container-env", "NAME[,NAME...]", "[box] accepted; the task's environment is kept", 1, 0, cb_ignore},
    {"container-save", "PATH", "[box] accepted and ignored", 1, 0, cb_ignore},
    {"container-mount-home", NULL, "[box] accepted; home is never mounted", 0, 0, cb_ignore},
    {"no-container-mount-home", NULL, "[box] home is never mounted (default here)", 0, 0, cb_ignore},
    {"container-remap-root", NULL, "[box] accepted and ignored", 0, 0, cb_ignore},
    {"no-container-remap-root", NULL, "[box] accepted and ignored", 0, 0, cb_ignore},
    {"container-writable", NULL, "[box] the container is always writable (throw-away layer)", 0, 0, cb_ignore},
    {"container-readonly", NULL, "[box] accepted and ignored", 0, 0, cb_ignore},
    {"container-entrypoint", NULL, "[box] accepted and ignored", 0, 0, cb_ignore},
    {"no-container-entrypoint", NULL, "[box] accepted and ignored", 0, 0, cb_ignore},
    SPANK_OPTIONS_TABLE_END};

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    (void)sp;
    for (int i = 0; i < ac; i++)
        if (strncmp(av[i], "images=", 7) == 0)
            snprintf(images_map, sizeof images_map, "%s", av[i] + 7);
    return ESPANK_SUCCESS;
}

/* The rootfs for `image`: the first map line whose prefix starts the image name. */
static int find_rootfs(const char *image, char *out, size_t len)
{
    FILE *fh = fopen(images_map, "r");
    char line[4096];
    if (!fh) {
        slurm_error("box: cannot read the image map %s: %m", images_map);
        return -1;
    }
    while (fgets(line, sizeof line, fh)) {
        char prefix[2048], rootfs[2048];
        if (line[0] == '#' || sscanf(line, "%2047s %2047s", prefix, rootfs) != 2)
            continue;
        if (strncmp(image, prefix, strlen(prefix)) == 0) {
            snprintf(out, len, "%s", rootfs);
            fclose(fh);
            return 0;
        }
    }
    fclose(fh);
    slurm_error("box: image %s is not in %s (a real cluster: enroot import failed)", image, images_map);
    return -1;
}

static int mkdirs(const char *path, mode_t mode)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(buf, mode) < 0 && errno != EEXIST) ? -1 : 0;
}

/* Bind `src` at `root`+`dst` (a file over a file, a folder over a folder); `ro` remounts it. */
static int bind_into(const char *root, const char *src, const char *dst, int ro)
{
    char target[4096];
    struct stat st;
    if (stat(src, &st) < 0) {
        slurm_error("box: mount source %s does not exist", src);
        return -1;
    }
    snprintf(target, sizeof target, "%s%s", root, dst);
    if (S_ISDIR(st.st_mode)) {
        if (mkdirs(target, 0755) < 0) {
            slurm_error("box: cannot create mount point %s: %m", dst);
            return -1;
        }
    } else {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", target);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            mkdirs(parent, 0755);
        }
        int fd = open(target, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
    }
    if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
        slurm_error("box: bind %s -> %s failed: %m", src, dst);
        return -1;
    }
    if (ro && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0) {
        slurm_error("box: read-only remount of %s failed: %m", dst);
        return -1;
    }
    return 0;
}

/* `--container-mounts`: comma-separated SRC[:DST[:FLAGS]]. */
static int declared_mounts(const char *root)
{
    if (!opt_mounts || !*opt_mounts)
        return 0;
    char *copy = strdup(opt_mounts), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
        char *src = item, *dst = strchr(item, ':'), *flags = NULL;
        if (dst) {
            *dst++ = '\0';
            flags = strchr(dst, ':');
            if (flags)
                *flags++ = '\0';
        }
        if (!dst || !*dst)
            dst = src;
        rc = bind_into(root, src, dst, flags && strstr(flags, "ro") != NULL);
    }
    free(copy);
    return rc;
}

static int loopback_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "lo");
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
    return rc;
}

/* The job's user in the container's /etc/passwd (enroot does the same). */
static void add_user(spank_t sp, const char *root)
{
    uid_t uid;
    gid_t gid;
    char path[4096];
    if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS || uid == 0)
        return;
    if (spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS)
        gid = uid;
    struct passwd *pw = getpwuid(uid);
    snprintf(path, sizeof path, "%s/etc/passwd", root);
    FILE *fh = fopen(path, "a");
    if (!fh)
        return;
    fprintf(fh, "%s:x:%u:%u::%s:/bin/sh\n", pw ? pw->pw_name : "user", (unsigned)uid, (unsigned)gid,
            pw ? pw->pw_dir : "/");
    fclose(fh);
}

/* The start time of process `pid` (field 22 of /proc/PID/stat): tells a reused pid apart. */
static unsigned long long start_time(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fh = fopen(path, "r");
    if (!fh)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, fh);
    fclose(fh);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long value = 0;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p)
        sscanf(p + 1, "%llu", &value);
    return value;
}

/* CONTAINERS/<job id>/<name>: where a named container's running task is recorded. */
static int name_record(spank_t sp, char *out, size_t len, int create)
{
    uint32_t job_id;
    if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS || strchr(opt_name, '/'))
        return -1;
    snprintf(out, len, CONTAINERS "/%u", job_id);
    if (create && mkdirs(out, 0700) < 0)
        return -1;
    snprintf(out + strlen(out), len - strlen(out), "/%s", opt_name);
    return 0;
}

/* The pid of the running task of this job's container `opt_name`, or 0 when none runs. */
static pid_t running_container(spank_t sp)
{
    char path[4096];
    int pid = 0;
    unsigned long long started = 0;
    if (!opt_name || name_record(sp, path, sizeof path, 0) < 0)
        return 0;
    FILE *fh = fopen(path, "r");
    if (!fh)
        return 0;
    if (fscanf(fh, "%d %llu", &pid, &started) != 2)
        pid = 0;
    fclose(fh);
    return (pid > 0 && start_time(pid) == started) ? pid : 0;
}

static void record_container(spank_t sp)
{
    char path[4096], tmp[4200];
    if (!opt_name || name_record(sp, path, sizeof path, 1) < 0)
        return;
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    FILE *fh = fopen(tmp, "w");
    if (!fh)
        return;
    fprintf(fh, "%d %llu\n", (int)getpid(), start_time(getpid()));
    fclose(fh);
    rename(tmp, path);
}

/* Enter the running container of task `pid`: its network and mount namespaces, its root. */
static int join_container(spank_t sp, pid_t pid)
{
    char path[64], cwd[4096];
    int net, mnt;
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    net = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    mnt = open(path, O_RDONLY | O_CLOEXEC);
    if (net < 0 || mnt < 0 || setns(net, CLONE_NEWNET) < 0 || setns(mnt, CLONE_NEWNS) < 0) {
        slurm_error("box: cannot join container %s (task %d): %m", opt_name, (int)pid);
        return -1;
    }
    close(net);
    close(mnt);
    if (chroot(SCRATCH "/root") < 0 || chdir("/") < 0) {
        slurm_error("box: cannot enter container %s: %m", opt_name);
        return -1;
    }
    if (spank_getenv(sp, "PWD", cwd, sizeof cwd) == ESPANK_SUCCESS && cwd[0] == '/')
        mkdirs(cwd, 0755); /* as for a new container: slurmstepd chdirs there next */
    return 0;
}

/* The root folder belongs to the job's user, as in an image enroot unpacked as that user. */
static void own_root(spank_t sp, const char *root)
{
    uid_t uid;
    gid_t gid;
    if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS || uid == 0)
        return;
    if (spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS)
        gid = uid;
    if (chown(root, uid, gid) < 0)
        slurm_error("box: cannot give the container's root to uid %u: %m", (unsigned)uid);
}

/* Slurm 22.05 runs the task even when this hook fails: a failed container must not run it. */
static int enter_container(spank_t sp);

int slurm_spank_task_init_privileged(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if ((!opt_image && !opt_name) || !spank_remote(sp))
        return ESPANK_SUCCESS;
    pid_t running = running_container(sp);
    if (running > 0) {
        if (join_container(sp, running) < 0)
            _exit(125);
    } else if (!opt_image) {
        slurm_error("box: no container named %s runs in this job, and no --container-image", opt_name);
        _exit(125);
    } else {
        record_container(sp); /* on the host, before entering; a failed task is not found later */
        if (enter_container(sp) < 0)
            _exit(125); /* the exit code pyxis/enroot failures give */
    }
    in_container = 1;
    return ESPANK_SUCCESS;
}

/* At the job's end its named containers are gone: forget them. */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    uint32_t job_id;
    char cmd[256];
    if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS)
        return ESPANK_SUCCESS;
    snprintf(cmd, sizeof cmd, "rm -rf " CONTAINERS "/%u", job_id);
    if (system(cmd) != 0)
        slurm_error("box: could not remove " CONTAINERS "/%u", job_id);
    return ESPANK_SUCCESS;
}

/* The image's rootfs under a tmpfs overlay, /proc /sys /dev, the declared mounts, chroot. */
static int enter_container(spank_t sp)
{
    char rootfs[4096], opts[8192], cwd[4096];
    const char *root = SCRATCH "/root";
    if (find_rootfs(opt_image, rootfs, sizeof rootfs) < 0)
        return -1;
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0) {
        slurm_error("box: unshare failed: %m");
        return -1;
    }
    if (loopback_up() < 0)
        slurm_error("box: cannot bring up loopback: %m");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || mkdirs(SCRATCH, 0700) < 0 ||
        mount("box-scratch", SCRATCH, "tmpfs", 0, "mode=0755") < 0) {
        slurm_error("box: cannot prepare the task's scratch space: %m");
        return -1;
    }
    mkdir(SCRATCH "/upper", 0755);
    mkdir(SCRATCH "/work", 0755);
    mkdir(root, 0755);
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=" SCRATCH "/upper,workdir=" SCRATCH "/work", rootfs);
    if (mount("box-image", root, "overlay", 0, opts) < 0) {
        slurm_error("box: overlay of %s failed: %m", rootfs);
        return -1;
    }
    char target[4096];
    snprintf(target, sizeof target, "%s/proc", root);
    if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        slurm_error("box: mounting /proc failed: %m");
        return -1;
    }
    if (bind_into(root, "/sys", "/sys", 1) < 0 || bind_into(root, "/dev", "/dev", 0) < 0)
        return -1;
    snprintf(target, sizeof target, "%s/tmp", root);
    mkdirs(target, 01777);
    chmod(target, 01777);
    add_user(sp, root);
    own_root(sp, root);
    /* slurmstepd chdirs to the submit directory after this hook: an empty folder in the
       throw-away layer keeps it from complaining; task_init then enters the workdir. */
    if (spank_getenv(sp, "PWD", cwd, sizeof cwd) == ESPANK_SUCCESS && cwd[0] == '/') {
        char at[8192];
        snprintf(at, sizeof at, "%s%s", root, cwd);
        mkdirs(at, 0755);
    }
    if (declared_mounts(root) < 0)
        return -1;
    if (chroot(root) < 0 || chdir("/") < 0) {
        slurm_error("box: chroot into %s failed: %m", rootfs);
        return -1;
    }
    return 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (!in_container || !spank_remote(sp))
        return ESPANK_SUCCESS;
    const char *dir = (opt_workdir && *opt_workdir) ? opt_workdir : "/";
    if (chdir(dir) < 0) {
        slurm_error("box: container workdir %s: %m", dir);
        return ESPANK_ERROR;
    }
    spank_setenv(sp, "PWD", dir, 1);
    return ESPANK_SUCCESS;
}
